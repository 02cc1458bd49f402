// The MCP TypeScript SDK's client (v2) through a federated sign-in in real headless Chromium (issue 12): its
// redirectToAuthorization opens the URL in the browser, where the person presses "Continue with Acme SSO", signs
// in on the organisation's identity provider's own page (a real oidc-provider on loopback), approves at our
// consent page and lands on the SDK's loopback redirect_uri; the SDK redeems the code and calls list_notes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { ScriptedOAuthProvider } from '../e2e/scripted-oauth-provider.ts';
import { addUpstream } from '../helpers/federation-flow.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import {
  createLiveTestApp, launchChromium, openPage, saveScreenshot, scopeBoxes, startCallbackServer, type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES_SCOPES = [
  { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
  { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  { scope: 'notes:delete', risk: 'irreversible' as const, description: 'Delete all your notes' },
];

let browser: Browser;
let portcullis: LiveTestApp;
let idp: UpstreamIdp;
let notes: NotesServer;
let callbacks: CallbackServer;

beforeAll(async () => {
  browser = await launchChromium();
  portcullis = await createLiveTestApp();
  callbacks = await startCallbackServer();
  idp = await startUpstreamIdp({
    redirectUris: [`${portcullis.issuer}/federation/callback`],
    users: [{ sub: 'u-dana', email: 'dana@acme.test', email_verified: true, name: 'Dana', groups: ['eng'] }],
  });
  await addUpstream(portcullis, idp, { name: 'acme', displayName: 'Acme SSO', domains: ['acme.test'] }, portcullis.issuer);
  notes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: notes.url, name: 'Notes', scopes: NOTES_SCOPES });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await notes?.close();
  await callbacks?.close();
  await idp?.close();
  await portcullis?.close();
});

/** The SDK's OAuthClientProvider whose "send the user to authorize" step opens the URL in this browser page. */
class BrowserOAuthProvider extends ScriptedOAuthProvider {
  constructor(private readonly page: Page, redirectUrl: string) {
    super({ authorize: () => Promise.reject(new Error('the person answers in the browser, not a script')) }, redirectUrl);
  }

  override async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    await this.page.goto(url.href);
  }
}

const toolText = (result: unknown) => JSON.stringify((result as { content?: unknown }).content ?? result);

describe('an MCP SDK client whose person signs in with their identity provider in a browser', () => {
  it('opens the authorization in Chromium; Continue with Acme SSO, the upstream sign-in page and consent bring the code to its loopback redirect_uri, and list_notes works', async () => {
    const page = await openPage(browser);
    const oauth = new BrowserOAuthProvider(page, callbacks.redirectUri);
    const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: oauth.asV2() });
    const client = new Client({ name: 'browser-federated', version: '1.0.0' });

    // 401 → discovery → dynamic registration → the SDK sends the person to authorize, and stops until the code comes back.
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(oauth.authorizationUrls).toHaveLength(1);
    const authorization = oauth.authorizationUrls[0]!;
    expect(authorization.origin + authorization.pathname).toBe(`${portcullis.issuer}/auth`);
    expect(authorization.searchParams.get('resource')).toBe(notes.url);
    expect(authorization.searchParams.get('redirect_uri')).toBe(callbacks.redirectUri);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');

    // Our sign-in page, in the browser the SDK opened: the organisation's button.
    expect(await page.title()).toContain('Sign in');
    const button = page.getByRole('button', { name: /^Continue with Acme SSO/ });
    expect(await button.count()).toBe(1);
    await button.click();

    // The identity provider's own login page (not ours): sign in there as Dana.
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    expect(await page.title()).toBe('Upstream IdP sign-in');
    await saveScreenshot(page, 'federated-sdk-upstream-signin.png');
    await page.getByLabel('Username').fill('u-dana');
    await page.getByRole('button', { name: 'Sign in upstream' }).click();

    // Back at our consent page: the SDK's registered client asks for the notes server.
    await page.waitForSelector('form.consent-form');
    expect(new URL(page.url()).origin).toBe(portcullis.issuer);
    expect(await page.locator('main').textContent()).toContain('E2E MCP client');
    expect(await scopeBoxes(page)).toMatchObject({ 'notes:read': true });
    await saveScreenshot(page, 'federated-sdk-consent.png');
    const delivered = callbacks.next();
    await page.getByRole('button', { name: /^(Allow checked|Continue)$/ }).click();

    // The browser lands on the SDK's real listening redirect_uri with the code, state and RFC 9207 iss.
    const callback = await delivered;
    await page.waitForURL(`${callbacks.redirectUri}?**`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Back at the client');
    expect(callback.get('iss')).toBe(portcullis.issuer);
    expect(callback.get('state')).toBe(authorization.searchParams.get('state'));
    expect(callback.get('code')).toEqual(expect.any(String));
    await transport.finishAuth(callback);

    // The federated identity (acme, u-dana) made the account on this first sign-in; the token is that account's.
    const identities = (await portcullis.db.query<{ provider: string; subject: string; email: string; account_id: string; account_email: string; password_hash: string | null }>(
      `SELECT p.name AS provider, f.subject, f.email, f.account_id, a.email AS account_email, a.password_hash
       FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id JOIN accounts a ON a.id = f.account_id`)).rows;
    expect(identities).toEqual([{
      provider: 'acme', subject: 'u-dana', email: 'dana@acme.test', account_id: expect.any(String), account_email: 'dana@acme.test', password_hash: null,
    }]);
    const accountId = identities[0]!.account_id;
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ sub: accountId, aud: notes.url, scope: 'notes:read', iss: portcullis.issuer });

    notes.store.add(accountId, 'Kept for the federated Dana');
    const connected = new Client({ name: 'browser-federated', version: '1.0.0' });
    await connected.connect(new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: oauth.asV2() }));
    expect(toolText(await connected.callTool({ name: 'list_notes', arguments: {} }))).toContain('1. Kept for the federated Dana');
    // No second trip to the browser: the SDK used the token it redeemed.
    expect(oauth.authorizationUrls).toHaveLength(1);
    await connected.close();
    await page.context().close();
  });
});
