// Least-privilege consent through the real pages: safe defaults, only what stays checked is granted,
// deny paths, step-up showing only the delta, and irreversible scopes that are never kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type TestAgent from 'supertest/lib/agent.js';
import { createNotesTestApp, createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import {
  authorizeQuery, checkedScopes, clientRedirectOf, csrfTokenOf, decide, exchangeCode, follow, obtainCode, pkcePair, refresh, registerClient, REDIRECT_URI, signIn,
} from '../helpers/oauth-flow.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { refreshTokenState } from '../helpers/refresh-token-state.ts';

const NOTES = 'https://mcp.example.com/mcp';
const WEB_REDIRECT = 'https://app.example.com/callback';
let app: TestApp;
let email: string;
beforeAll(async () => { ({ app, email } = await createNotesTestApp(NOTES)); });
afterAll(async () => app?.close());

const interactionPath = (page: { request: { url: string } }) => new URL(page.request.url).pathname;

/** Starts an authorization and signs in when asked; returns the page that follows (consent or redirect). */
async function authorize(browser: TestAgent, clientId: string, scope: string | undefined, redirectUri = REDIRECT_URI) {
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({
    clientId, resource: NOTES, scope, redirectUri, state: 'st4te', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
  }));
  if (page.status === 200 && page.text.includes('name="password"')) page = await signIn(browser, interactionPath(page), email);
  return { page, verifier: pkce.verifier };
}

async function redeem(clientId: string, location: string, verifier: string, redirectUri = REDIRECT_URI) {
  const code = new URL(location).searchParams.get('code');
  expect(code, location).toEqual(expect.any(String));
  const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, redirect_uri: redirectUri });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return token.body as { access_token: string; refresh_token?: string; scope: string; expires_in: number };
}

/** Full first authorization for a client: consent with the given choice, then the tokens. */
async function consentAndRedeem(browser: TestAgent, clientId: string, scope: string, chosen?: string[], redirectUri = REDIRECT_URI) {
  const { page, verifier } = await authorize(browser, clientId, scope, redirectUri);
  expect(page.status, page.text).toBe(200);
  const back = await decide(browser, interactionPath(page), 'approve', chosen);
  return redeem(clientId, back.headers.location as string, verifier, redirectUri);
}

describe('the consent page', () => {
  it('shows who asks, where the answer goes, the resource, and scopes grouped by risk with safe defaults', async () => {
    const { client_id } = await registerClient(app, { client_name: 'Notes Agent' });
    const { page } = await authorize(app.browser(), client_id, 'notes:read notes:write notes:delete');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Notes Agent');
    expect(page.text).toContain('Self-registered: nobody has verified who runs this application');
    expect(page.text).toContain('127.0.0.1:33418');
    expect(page.text).toContain('This application runs on this computer');
    expect(page.text).toContain('Notes MCP');
    expect(page.text).toContain(NOTES);
    // One fieldset per risk class, in order read → write → irreversible.
    const groups = [...page.text.matchAll(/<fieldset class="scope-group risk-(\w+)">/g)].map((m) => m[1]);
    expect(groups).toEqual(['read', 'write', 'irreversible']);
    expect(checkedScopes(page.text)).toEqual(['notes:read']);
    expect(page.text).toMatch(/<strong>Delete all notes<\/strong> \(cannot be undone\)/);
  });

  it('says a pre-registered client was registered by the operator, and shows no loopback warning for https', async () => {
    const { addOperatorClient } = await import('../../src/clients/store.ts');
    const client = await addOperatorClient(app.db, { name: 'Operator App', redirectUris: [WEB_REDIRECT], confidential: false });
    const { page } = await authorize(app.browser(), client.clientId, 'notes:read', WEB_REDIRECT);
    expect(page.text).toContain('Pre-registered by the operator of this server');
    expect(page.text).not.toContain('This application runs on this computer');
  });

  it('a self-registered client cannot claim to be pre-registered by the operator', async () => {
    const { client_id } = await registerClient(app, { client_name: 'Trust Me', portcullis_source: 'operator' });
    const { page } = await authorize(app.browser(), client_id, 'notes:read');
    expect(page.text).toContain('Self-registered: nobody has verified who runs this application');
    expect(page.text).not.toContain('Pre-registered by the operator');
  });

  it('grants only what is left checked', async () => {
    const { client_id } = await registerClient(app);
    const tokens = await consentAndRedeem(app.browser(), client_id, 'notes:read notes:write');
    expect(tokens.scope).toBe('notes:read');
    expect(decodeJwt(tokens.access_token).scope).toBe('notes:read');
  });

  it('treats unchecking everything as a deny: access_denied at the registered redirect URI with state and iss', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { page } = await authorize(browser, client_id, 'notes:read notes:write');
    const back = await decide(browser, interactionPath(page), 'approve', []);
    const callback = clientRedirectOf(back);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('st4te');
    expect(callback.searchParams.get('iss')).toBe(app.config.issuer);
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('Deny returns access_denied with state and iss, and records who denied what', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { page } = await authorize(browser, client_id, 'notes:read');
    const back = await decide(browser, interactionPath(page), 'deny');
    const callback = clientRedirectOf(back);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('st4te');
    expect(callback.searchParams.get('iss')).toBe(app.config.issuer);
    await flushAuditWrites();
    const denied = (await listAuditEvents(app.db, { type: 'consent.denied' })).find((e) => e.client_id === client_id);
    expect(denied).toMatchObject({ resource: NOTES, scopes: 'notes:read', outcome: 'failure' });
    expect(denied?.account_id).toEqual(expect.any(String));
  });

  it('records an approval with the scopes granted and declined', async () => {
    const { client_id } = await registerClient(app);
    await consentAndRedeem(app.browser(), client_id, 'notes:read notes:write');
    await flushAuditWrites();
    const granted = (await listAuditEvents(app.db, { type: 'consent.granted' })).find((e) => e.client_id === client_id);
    expect(granted).toMatchObject({ resource: NOTES, scopes: 'notes:read' });
    expect(granted?.details).toMatchObject({ declined: ['notes:write'], grant_id: expect.any(String) });
  });

  it('refuses a submitted scope the page did not offer, granting nothing', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { page } = await authorize(browser, client_id, 'notes:read');
    const forged = await browser.post(`${interactionPath(page)}/confirm`).type('form')
      .send(`decision=approve&scope=notes%3Aread&scope=notes%3Adelete&csrf=${csrfTokenOf(page.text)}`);
    expect(forged.status).toBe(400);
    // The interaction is still open: the honest answer works and grants read only.
    const back = await decide(browser, interactionPath(page), 'approve');
    expect(new URL(back.headers.location as string).searchParams.get('code')).toEqual(expect.any(String));
  });
});

describe('step-up', () => {
  it('shows only the new scope, lists the granted ones as kept, and the token carries the union', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT], application_type: 'web' });
    const browser = app.browser();
    await consentAndRedeem(browser, client_id, 'notes:read', undefined, WEB_REDIRECT);
    // After a 403 insufficient_scope, MCP clients ask for exactly the challenged scope.
    const { page, verifier } = await authorize(browser, client_id, 'notes:write', WEB_REDIRECT);
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain('asks for more access');
    expect(page.text).toMatch(/Already allowed, kept as is[\s\S]*<code>notes:read<\/code>[\s\S]*New permissions/);
    expect([...page.text.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['notes:write']);
    expect(checkedScopes(page.text)).toEqual([]);
    const back = await decide(browser, interactionPath(page), 'approve', ['notes:write']);
    const tokens = await redeem(client_id, back.headers.location as string, verifier, WEB_REDIRECT);
    expect(decodeJwt(tokens.access_token).scope).toBe('notes:read notes:write');
  });

  it('declining the new scope is a deny and leaves the standing grant as it was', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT], application_type: 'web' });
    const browser = app.browser();
    await consentAndRedeem(browser, client_id, 'notes:read', undefined, WEB_REDIRECT);
    const { page } = await authorize(browser, client_id, 'notes:write', WEB_REDIRECT);
    const back = await decide(browser, interactionPath(page), 'approve', []);
    expect(new URL(back.headers.location as string).searchParams.get('error')).toBe('access_denied');
    const again = await authorize(browser, client_id, 'notes:read', WEB_REDIRECT);
    expect(again.page.status).toBe(303);
    const tokens = await redeem(client_id, again.page.headers.location as string, again.verifier, WEB_REDIRECT);
    expect(tokens.scope).toBe('notes:read');
  });

  it('asks again for a scope the person declined earlier when the client asks for it again', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT], application_type: 'web' });
    const browser = app.browser();
    await consentAndRedeem(browser, client_id, 'notes:read notes:write', ['notes:read'], WEB_REDIRECT);
    const { page } = await authorize(browser, client_id, 'notes:write', WEB_REDIRECT);
    expect(page.status).toBe(200);
    expect([...page.text.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['notes:write']);
  });

  it('skips the page when an existing grant covers the request (web client)', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT], application_type: 'web' });
    const browser = app.browser();
    await consentAndRedeem(browser, client_id, 'notes:read notes:write', ['notes:read', 'notes:write'], WEB_REDIRECT);
    const { page, verifier } = await authorize(browser, client_id, 'notes:read', WEB_REDIRECT);
    expect(page.status).toBe(303);
    const tokens = await redeem(client_id, page.headers.location as string, verifier, WEB_REDIRECT);
    expect(tokens.scope).toBe('notes:read notes:write');
  });

  it('skips the page for a native (loopback) client too when its grant covers the request', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    await consentAndRedeem(browser, client_id, 'notes:read');
    const { page } = await authorize(browser, client_id, 'notes:read');
    expect(page.status).toBe(303);
    expect(new URL(page.headers.location as string).searchParams.get('code')).toEqual(expect.any(String));
  });
});

describe('irreversible scopes', () => {
  it('live in a five-minute token, never in a refresh token, and are spent from the grant', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT], application_type: 'web' });
    const browser = app.browser();
    const tokens = await consentAndRedeem(browser, client_id, 'notes:read notes:delete', ['notes:read', 'notes:delete'], WEB_REDIRECT);
    const claims = decodeJwt(tokens.access_token);
    expect(claims.scope).toBe('notes:read notes:delete');
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(tokens.expires_in).toBeLessThanOrEqual(300);
    // The refresh token that came with it does not carry the irreversible scope…
    expect(await refreshTokenState(app, tokens.refresh_token!)).toMatchObject({ active: true, scope: 'notes:read' });
    // …cannot be used to get it…
    const refreshed = await refresh(app, { client_id, refresh_token: tokens.refresh_token!, scope: 'notes:delete' });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_scope');
    const plain = await refresh(app, { client_id, refresh_token: tokens.refresh_token! });
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    expect(decodeJwt(plain.body.access_token).scope).toBe('notes:read');
    // …and asking for it again shows the consent page again, unchecked, even though read is covered.
    const { page } = await authorize(browser, client_id, 'notes:delete', WEB_REDIRECT);
    expect(page.status).toBe(200);
    expect([...page.text.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['notes:delete']);
    expect(checkedScopes(page.text)).toEqual([]);
  });

  it('a consent that leaves it unchecked grants the rest and keeps no irreversible scope', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT], application_type: 'web' });
    const tokens = await consentAndRedeem(app.browser(), client_id, 'notes:read notes:delete', undefined, WEB_REDIRECT);
    expect(tokens.scope).toBe('notes:read');
    expect(tokens.expires_in).toBeGreaterThan(60);
  });
});

describe('NATIVE_CLIENT_CONSENT=every-time', () => {
  it('asks a native client on every authorization, with nothing new to tick when its grant covers the request', async () => {
    const strict = await createTestApp({ NATIVE_CLIENT_CONSENT: 'every-time' });
    try {
      await strict.addResource(notesResource(NOTES));
      const user = await strict.addUser();
      const { client_id } = await registerClient(strict);
      const browser = strict.browser();
      const first = await obtainCode(strict, browser, user.email, { clientId: client_id, resource: NOTES, scope: 'notes:read' });
      expect(first.code).toEqual(expect.any(String));
      const again = await follow(browser, authorizeQuery({
        clientId: client_id, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
      }));
      expect(again.status).toBe(200);
      expect(again.text).toContain('It asks for nothing new');
      expect(again.text).not.toContain('name="scope"');
      const back = await decide(browser, new URL(again.request.url).pathname, 'approve');
      expect(new URL(back.headers.location as string).searchParams.get('code')).toEqual(expect.any(String));
    } finally {
      await strict.close();
    }
  });
});
