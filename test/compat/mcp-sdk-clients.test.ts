// The MCP TypeScript SDK clients, v2 (@modelcontextprotocol/client) and v1 (@modelcontextprotocol/sdk),
// with their own OAuth flow (auth() behind StreamableHTTPClientTransport) against Portcullis and the
// notes server, the person in headless Chromium: registered dynamically, or identified by a Client ID
// Metadata Document; tools, a refresh, and each SDK's answer to 403 insufficient_scope.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { auth as authV2, Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth as authV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { startCallbackServer, type CallbackServer } from '../browser/harness.ts';
import { CIMD_DEV_ENV, clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { ScriptedOAuthProvider } from '../e2e/scripted-oauth-provider.ts';
import { approveInBrowser, openPage, startCompatStack, type CompatStack } from './stack.ts';

let stack: CompatStack;
let docs: DocumentServer;
let callback: CallbackServer;
beforeAll(async () => {
  docs = await startDocumentServer();
  // Metadata documents come from the local https document server (development mode).
  stack = await startCompatStack(CIMD_DEV_ENV);
  callback = await startCallbackServer();
});
afterAll(async () => {
  await callback?.close();
  await stack?.close();
  await docs?.close();
});

/** The person at `page`: answers each authorization the SDK sends them to, ticking `tick`. */
class BrowserPerson {
  tick: string[] = [];
  constructor(private readonly page: Page) {}
  async authorize(url: URL | string): Promise<URL> {
    return approveInBrowser(this.page, String(url), stack.email, this.tick);
  }
}

type Sdk = 'v2' | 'v1';
const open = (sdk: Sdk, oauth: ScriptedOAuthProvider) => sdk === 'v2'
  ? new TransportV2(new URL(stack.notes.url), { authProvider: oauth.asV2() })
  : new TransportV1(new URL(stack.notes.url), { authProvider: oauth.asV1() });
const newClient = (sdk: Sdk) => sdk === 'v2' ? new ClientV2({ name: 'compat-v2', version: '1.0.0' }) : new ClientV1({ name: 'compat-v1', version: '1.0.0' });
const finish = (transport: TransportV1 | TransportV2, landed: URL) => transport instanceof TransportV2
  ? transport.finishAuth(landed.searchParams) : transport.finishAuth(landed.searchParams.get('code')!);
const text = (result: unknown) => JSON.stringify((result as { content?: unknown }).content ?? result);

/** The first connect stops for a sign-in; the person signs in and allows in Chromium; the transport redeems. */
async function signIn(sdk: Sdk, oauth: ScriptedOAuthProvider) {
  const transport = open(sdk, oauth);
  await expect(newClient(sdk).connect(transport as never)).rejects.toThrow();
  expect(oauth.callback?.searchParams.get('iss')).toBe(stack.portcullis.issuer);
  await finish(transport, oauth.callback!);
}

async function connected(sdk: Sdk, oauth: ScriptedOAuthProvider) {
  const client = newClient(sdk);
  await client.connect(open(sdk, oauth) as never);
  return client;
}

describe.each(['v2', 'v1'] as const)('MCP SDK %s client', (sdk) => {
  const auth = sdk === 'v2' ? authV2 : authV1;

  it('registers dynamically, signs in, uses a tool, and refreshes with rotation', async () => {
    const page = await openPage(stack.browser);
    const oauth = new ScriptedOAuthProvider(new BrowserPerson(page), callback.redirectUri);
    await signIn(sdk, oauth);
    const authorization = oauth.authorizationUrls[0]!;
    expect(authorization.searchParams.get('resource')).toBe(stack.notes.url);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ aud: stack.notes.url, scope: 'notes:read', sub: stack.personId });

    const client = await connected(sdk, oauth);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['add_note', 'delete_all_notes', 'list_notes']);
    expect(text(await client.callTool({ name: 'list_notes', arguments: {} }))).toContain('You have no notes.');

    // auth() with a stored refresh token refreshes (with the resource) instead of sending the person back.
    const before = oauth.tokens() as { access_token: string; refresh_token: string };
    expect(await auth(oauth as never, { serverUrl: stack.notes.url })).toBe('AUTHORIZED');
    const after = oauth.tokens() as { access_token: string; refresh_token: string };
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(decodeJwt(after.access_token)).toMatchObject({ aud: stack.notes.url, scope: 'notes:read' });
    expect(oauth.authorizationUrls).toHaveLength(1);
    await client.close();
    await page.context().close();
  });

  it('identified by a Client ID Metadata Document: no registration, the URL is the client_id', async () => {
    const path = `/compat-${sdk}/client.json`;
    docs.serveJson(path, clientDocument(docs.url(path), callback.redirectUri, { client_name: `Compat SDK ${sdk}` }));
    const page = await openPage(stack.browser);
    const oauth = new ScriptedOAuthProvider(new BrowserPerson(page), callback.redirectUri, docs.url(path));
    await signIn(sdk, oauth);
    expect(oauth.authorizationUrls[0]!.searchParams.get('client_id')).toBe(docs.url(path));
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ client_id: docs.url(path), aud: stack.notes.url });
    const client = await connected(sdk, oauth);
    expect(text(await client.callTool({ name: 'list_notes', arguments: {} }))).toContain('You have no notes.');
    await client.close();
    await page.context().close();
  });
});

describe('RFC 9207 in the SDK v2 client', () => {
  it('refuses a callback whose iss is not the discovered issuer, before redeeming the code', async () => {
    const page = await openPage(stack.browser);
    const oauth = new ScriptedOAuthProvider(new BrowserPerson(page), callback.redirectUri);
    const transport = open('v2', oauth) as TransportV2;
    await expect(newClient('v2').connect(transport as never)).rejects.toThrow();
    const forged = new URLSearchParams(oauth.callback!.searchParams);
    forged.set('iss', 'https://attacker.example');
    await expect(transport.finishAuth(forged)).rejects.toThrow(/issuer/i);
    expect(oauth.tokens()).toBeUndefined();
    await transport.finishAuth(oauth.callback!.searchParams);
    expect(decodeJwt(oauth.accessToken).aud).toBe(stack.notes.url);
    await page.context().close();
  });
});

describe('403 insufficient_scope (step-up)', () => {
  it('v2 re-authorizes for the challenged scope by itself; the person ticks only the new one', async () => {
    const page = await openPage(stack.browser);
    const person = new BrowserPerson(page);
    const oauth = new ScriptedOAuthProvider(person, callback.redirectUri);
    await signIn('v2', oauth);
    const transport = open('v2', oauth) as TransportV2;
    const client = newClient('v2') as ClientV2;
    await client.connect(transport);
    person.tick = ['Add notes'];
    await expect(client.callTool({ name: 'add_note', arguments: { text: 'from v2' } })).rejects.toThrow();
    expect(oauth.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    await transport.finishAuth(oauth.callback!.searchParams);
    expect(decodeJwt(oauth.accessToken).scope).toBe('notes:read notes:write');
    const after = await connected('v2', oauth);
    expect(text(await after.callTool({ name: 'add_note', arguments: { text: 'from v2' } }))).toContain('Added note');
    await after.close();
    await client.close();
    await page.context().close();
  });

  it('v1 refreshes (the same scope), is refused again and gives up: the application must call auth() with the scope', async () => {
    const page = await openPage(stack.browser);
    const person = new BrowserPerson(page);
    const oauth = new ScriptedOAuthProvider(person, callback.redirectUri);
    await signIn('v1', oauth);
    const client = await connected('v1', oauth);
    const before = (oauth.tokens() as { refresh_token: string }).refresh_token;
    await expect(client.callTool({ name: 'add_note', arguments: { text: 'from v1' } })).rejects.toThrow(/403/);
    expect((oauth.tokens() as { refresh_token: string }).refresh_token).not.toBe(before);
    expect(oauth.authorizationUrls).toHaveLength(1);

    person.tick = ['Add notes'];
    oauth.invalidateCredentials('tokens');
    expect(await authV1(oauth.asV1(), { serverUrl: stack.notes.url, scope: 'notes:write' })).toBe('REDIRECT');
    expect(await authV1(oauth.asV1(), { serverUrl: stack.notes.url, authorizationCode: oauth.callback!.searchParams.get('code')! })).toBe('AUTHORIZED');
    expect(decodeJwt(oauth.accessToken).scope).toBe('notes:read notes:write');
    await client.close();
    await page.context().close();
  });
});
