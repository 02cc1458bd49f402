// Refreshing after an irreversible scope was spent, as mcp-remote does (its whole scope repeated on
// every refresh): a token without the spent scope, said so in `scope`, never `invalid_scope`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type TestAgent from 'supertest/lib/agent.js';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, decide, exchangeCode, follow, pkcePair, refresh, registerClient, REDIRECT_URI, signIn } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
const FULL_SCOPE = 'notes:read notes:write notes:delete';
let app: TestApp;
let email: string;
beforeAll(async () => { ({ app, email } = await createNotesTestApp(NOTES)); });
afterAll(async () => app?.close());

interface Tokens { access_token: string; refresh_token: string; scope: string; expires_in: number }

/** One authorization answered with `chosen` ticked, and its code redeemed. */
async function consentAndRedeem(browser: TestAgent, clientId: string, scope: string, chosen: string[]): Promise<Tokens> {
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({
    clientId, resource: NOTES, scope, redirectUri: REDIRECT_URI, state: 'st4te', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
  }));
  if (page.text.includes('name="password"')) page = await signIn(browser, new URL(page.request.url).pathname, email);
  expect(page.status, page.text.slice(0, 300)).toBe(200);
  const back = await decide(browser, new URL(page.request.url).pathname, 'approve', chosen);
  const code = new URL(back.headers.location as string).searchParams.get('code')!;
  const token = await exchangeCode(app, { client_id: clientId, code, code_verifier: pkce.verifier });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return token.body as Tokens;
}

async function signedInWithDelete() {
  const { client_id: clientId } = await registerClient(app);
  const browser = app.browser();
  const first = await consentAndRedeem(browser, clientId, FULL_SCOPE, ['notes:read', 'notes:write', 'notes:delete']);
  return { clientId, browser, first };
}

describe('a refresh that repeats a spent irreversible scope', () => {
  it('gets a token without it, says so in scope, and the chain keeps refreshing the same way', async () => {
    const { clientId, first } = await signedInWithDelete();
    expect(first.scope).toBe(FULL_SCOPE);

    let refreshToken = first.refresh_token;
    for (let round = 0; round < 3; round += 1) {
      const refreshed = await refresh(app, { client_id: clientId, refresh_token: refreshToken, scope: FULL_SCOPE });
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
      expect(refreshed.body.scope).toBe('notes:read notes:write');
      expect(decodeJwt(refreshed.body.access_token).scope).toBe('notes:read notes:write');
      refreshToken = refreshed.body.refresh_token;
    }
  });

  it('still gets invalid_scope for a scope never granted, and for a refresh asking only for the spent scope', async () => {
    const { client_id: clientId } = await registerClient(app);
    const first = await consentAndRedeem(app.browser(), clientId, 'notes:read notes:delete', ['notes:read', 'notes:delete']);
    // notes:write was never asked for nor granted: RFC 6749 §6 refusal, spent scope or not.
    const widened = await refresh(app, { client_id: clientId, refresh_token: first.refresh_token, scope: FULL_SCOPE });
    expect(widened.status).toBe(400);
    expect(widened.body).toMatchObject({ error: 'invalid_scope' });
    // Only the spent scope: nothing this refresh token can give was asked for; the person must be.
    const onlySpent = await refresh(app, { client_id: clientId, refresh_token: first.refresh_token, scope: 'notes:delete' });
    expect(onlySpent.status).toBe(400);
    expect(onlySpent.body).toMatchObject({ error: 'invalid_scope' });
    // Neither refusal used the refresh token up.
    const plain = await refresh(app, { client_id: clientId, refresh_token: first.refresh_token, scope: 'notes:read notes:delete' });
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    expect(plain.body.scope).toBe('notes:read');
  });

  it('treats an irreversible scope the person left unticked the same way: dropped, not invalid_scope', async () => {
    const { client_id: clientId } = await registerClient(app);
    const first = await consentAndRedeem(app.browser(), clientId, 'notes:read notes:delete', ['notes:read']);
    expect(first.scope).toBe('notes:read');
    const refreshed = await refresh(app, { client_id: clientId, refresh_token: first.refresh_token, scope: 'notes:read notes:delete' });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(refreshed.body.scope).toBe('notes:read');
  });

  it('does not pick up the scope from a new consent whose code is not yet redeemed', async () => {
    const { clientId, browser, first } = await signedInWithDelete();
    // A second "yes" to notes:delete puts it back on the grant until its code is redeemed…
    const pkce = pkcePair();
    const page = await follow(browser, authorizeQuery({
      clientId, resource: NOTES, scope: FULL_SCOPE, redirectUri: REDIRECT_URI, state: 's2', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
    }));
    expect(page.status).toBe(200);
    const back = await decide(browser, new URL(page.request.url).pathname, 'approve', ['notes:delete']);
    const code = new URL(back.headers.location as string).searchParams.get('code')!;
    // …but the old refresh chain never gets it: that yes belongs to the code.
    const refreshed = await refresh(app, { client_id: clientId, refresh_token: first.refresh_token, scope: FULL_SCOPE });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(decodeJwt(refreshed.body.access_token).scope).toBe('notes:read notes:write');
    const redeemed = await exchangeCode(app, { client_id: clientId, code, code_verifier: pkce.verifier });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    expect(decodeJwt(redeemed.body.access_token).scope).toBe('notes:read notes:write notes:delete');
  });
});

describe('the token that carries an irreversible scope', () => {
  it('lives long enough for a client that refreshes with 60 s left to use it, and at most five minutes', async () => {
    const { first } = await signedInWithDelete();
    const claims = decodeJwt(first.access_token);
    expect(claims.scope).toContain('notes:delete');
    expect(first.expires_in).toBeGreaterThanOrEqual(120);
    expect(claims.exp! - claims.iat!).toBeGreaterThanOrEqual(120);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
  });
});
