// The authorization code flow end to end through the login and consent forms, and every way an
// attacker or a broken client could try to bend it: PKCE, redirect URIs, codes, audiences.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, clientRedirectOf, csrfTokenOf, exchangeCode, follow, obtainCode, pkcePair, REDIRECT_URI, refresh, registerClient } from '../helpers/oauth-flow.ts';
import { refreshTokenState } from '../helpers/refresh-token-state.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';

const NOTES = 'https://mcp.example.com/mcp';
const CALENDAR = 'https://calendar.example.com/mcp';
let app: TestApp;
let email: string;

beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
  await app.addResource({ uri: CALENDAR, name: 'Calendar', scopes: [{ scope: 'calendar:read', risk: 'read', description: '' }] });
  email = (await app.addUser()).email;
});
afterAll(async () => app?.close());

async function freshCode(scope = 'notes:read', resource: string | string[] = NOTES) {
  const { client_id } = await registerClient(app);
  const result = await obtainCode(app, app.browser(), email, { clientId: client_id, resource, scope });
  return { clientId: client_id, ...result };
}

describe('authorization code flow', () => {
  it('issues an RS-verifiable JWT bound to exactly the requested resource, with only declared scopes', async () => {
    const { clientId, code, verifier, callback, state } = await freshCode('notes:read notes:unknown');
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(ISSUER); // RFC 9207
    const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: NOTES });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.token_type).toBe('Bearer');
    expect(token.body.refresh_token).toEqual(expect.any(String));
    const jwks = await app.http().get('/jwks');
    const { payload, protectedHeader } = await jwtVerify(token.body.access_token, createLocalJWKSet(jwks.body), {
      issuer: ISSUER, audience: NOTES, typ: 'at+jwt', algorithms: ['ES256'],
    });
    expect(payload.aud).toBe(NOTES);
    expect(payload.scope).toBe('notes:read');
    expect(payload.client_id).toBe(clientId);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    expect(protectedHeader.alg).toBe('ES256');
  });

  it('omitting resource at the token endpoint yields the authorized resource', async () => {
    const { clientId, code, verifier } = await freshCode();
    const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token).aud).toBe(NOTES);
  });

  it('accepts a trailing slash or upper-case host on resource but issues the canonical audience', async () => {
    const { clientId, code, verifier } = await freshCode('notes:read', 'https://MCP.example.com/mcp/');
    const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: 'https://mcp.example.com/mcp/' });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token).aud).toBe(NOTES);
  });
});

describe('PKCE', () => {
  async function authorizeWith(challenge: Record<string, string | undefined>) {
    const { client_id } = await registerClient(app);
    const response = await app.browser().get(authorizeQuery({ clientId: client_id, resource: NOTES, scope: 'notes:read', state: 's1', ...challenge }));
    // Self-registered: the error waits on the leaving page (src/oidc/leaving-interstitial.ts).
    return clientRedirectOf(response);
  }

  it('refuses an authorization request without code_challenge', async () => {
    const location = await authorizeWith({});
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(location.searchParams.get('state')).toBe('s1');
  });

  it('refuses code_challenge_method=plain', async () => {
    const { verifier } = pkcePair();
    const location = await authorizeWith({ codeChallenge: verifier, codeChallengeMethod: 'plain' });
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('refuses a wrong code_verifier and leaves no tokens', async () => {
    const { clientId, code } = await freshCode();
    const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: pkcePair().verifier });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_grant');
    expect(token.body.access_token).toBeUndefined();
  });

  it('refuses a missing code_verifier', async () => {
    const { clientId, code } = await freshCode();
    const token = await exchangeCode(app, { client_id: clientId, code: code! });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_grant');
  });
});

describe('authorization codes are single-use', () => {
  it('a replayed code is refused and the first redemption’s refresh token stops working', async () => {
    const { clientId, code, verifier } = await freshCode();
    const first = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
    expect(first.status).toBe(200);
    const replay = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const refreshed = await refresh(app, { client_id: clientId, refresh_token: first.body.refresh_token });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    expect(await refreshTokenState(app, first.body.refresh_token)).toEqual({ active: false });
    await flushAuditWrites(); // the token endpoint's audit rows are written beside the response
    const { rows } = await app.db.query("SELECT 1 FROM audit_events WHERE event_type = 'authorization_code.replay_detected' AND client_id = $1", [clientId]);
    expect(rows.length).toBe(1);
  });

  it('two concurrent redemptions of one code: exactly one wins', async () => {
    const { clientId, code, verifier } = await freshCode();
    const results = await Promise.all([1, 2, 3].map(() => exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    for (const loser of results.filter((r) => r.status !== 200)) {
      expect(loser.body.error).toBe('invalid_grant');
      expect(loser.body.access_token).toBeUndefined();
    }
    // What is live afterwards: one token.issued row, and no refresh token but the winner's (the losers'
    // rows were never written: the code's consume and the rows it issues are one statement). A loser that
    // read the code after the winner consumed it saw a replay, and oidc-provider then revoked the grant,
    // the winner's token with it (RFC 6749 §4.1.2): so the winner's token is live or gone, never doubled.
    const winner = results.find((r) => r.status === 200)!;
    expect(winner.body.refresh_token).toEqual(expect.any(String));
    await flushAuditWrites();
    const { rows: [live] } = await app.db.query<{ tokens: number; issued: number }>(
      `SELECT (SELECT count(*)::int FROM oidc_models WHERE model = 'RefreshToken' AND payload->>'clientId' = $1) AS tokens,
              (SELECT count(*)::int FROM audit_events WHERE event_type = 'token.issued' AND client_id = $1) AS issued`, [clientId]);
    expect(live!.issued).toBe(1);
    expect(live!.tokens).toBeLessThanOrEqual(1);
    if (live!.tokens === 1) expect(await refreshTokenState(app, winner.body.refresh_token)).toMatchObject({ active: true });
  });

  it('an expired code is refused', async () => {
    const { clientId, code, verifier } = await freshCode();
    await app.db.query("UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE model = 'AuthorizationCode'");
    const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
    expect(token.body.error).toBe('invalid_grant');
  });

  it('a code is bound to its client', async () => {
    const { code, verifier } = await freshCode();
    const other = await registerClient(app);
    const token = await exchangeCode(app, { client_id: other.client_id, code: code!, code_verifier: verifier });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_grant');
  });
});

describe('redirect URIs', () => {
  it('never redirects to a redirect_uri that is not exactly registered', async () => {
    const { client_id } = await registerClient(app);
    for (const redirectUri of ['http://127.0.0.1:33418/callback/extra', 'https://evil.example/callback', 'http://127.0.0.1:33418/callback?x=1']) {
      const response = await app.browser().get(authorizeQuery({ clientId: client_id, redirectUri, resource: NOTES, state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
      expect(response.status).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(response.text).toContain('redirect_uri');
    }
  });

  it('allows any port on a registered loopback redirect URI (RFC 8252 §7.3)', async () => {
    const { client_id } = await registerClient(app);
    const result = await obtainCode(app, app.browser(), email, { clientId: client_id, resource: NOTES, scope: 'notes:read', redirectUri: 'http://127.0.0.1:50123/callback' });
    expect(result.callback.port).toBe('50123');
    const token = await exchangeCode(app, { client_id, code: result.code!, code_verifier: result.verifier, redirect_uri: 'http://127.0.0.1:50123/callback' });
    expect(token.status).toBe(200);
  });

  it('an unknown client gets an error page, not a redirect', async () => {
    const response = await app.browser().get(authorizeQuery({ clientId: 'no-such-client', resource: NOTES, state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('invalid_client');
  });
});

describe('resource indicators (RFC 8707)', () => {
  it('an unknown resource is refused with invalid_target at authorization', async () => {
    const { client_id } = await registerClient(app);
    const response = await app.browser().get(authorizeQuery({ clientId: client_id, resource: 'https://unknown.example/mcp', scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const location = clientRedirectOf(response);
    expect(location.searchParams.get('error')).toBe('invalid_target');
  });

  it('two resources in one authorization request are refused', async () => {
    const { client_id } = await registerClient(app);
    const response = await app.browser().get(authorizeQuery({ clientId: client_id, resource: [NOTES, CALENDAR], scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const location = clientRedirectOf(response);
    expect(location.searchParams.get('error')).toBe('invalid_target');
  });

  it('omitting resource when several are registered is refused with a message naming resource', async () => {
    const { client_id } = await registerClient(app);
    const response = await app.browser().get(authorizeQuery({ clientId: client_id, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const location = clientRedirectOf(response);
    expect(location.searchParams.get('error')).toBe('invalid_target');
    expect(location.searchParams.get('error_description')).toMatch(/resource is required/);
  });

  it('omitting resource picks the one this client was already granted in this session', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    await obtainCode(app, browser, email, { clientId: client_id, resource: CALENDAR, scope: 'calendar:read' });
    const again = await obtainCode(app, browser, email, { clientId: client_id, scope: 'calendar:read' });
    const token = await exchangeCode(app, { client_id, code: again.code!, code_verifier: again.verifier });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token).aud).toBe(CALENDAR);
  });

  it('a different resource at the token endpoint is refused and the code stays usable for a correct retry', async () => {
    const { clientId, code, verifier } = await freshCode();
    const wrong = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: CALENDAR });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_target');
    const unknown = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: 'https://unknown.example/mcp' });
    expect(unknown.body.error).toBe('invalid_target');
    const several = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: [NOTES, CALENDAR] });
    expect(several.body.error).toBe('invalid_target');
    const right = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: NOTES });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(decodeJwt(right.body.access_token).aud).toBe(NOTES);
  });
});

describe('consent decisions', () => {
  it('deny returns access_denied to the registered redirect URI with state and iss', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { challenge } = pkcePair();
    let page = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, scope: 'notes:read', state: 'deny-state', codeChallenge: challenge, codeChallengeMethod: 'S256' }));
    const interaction = new URL(page.request.url).pathname;
    const login = await browser.post(`${interaction}/login`).type('form').send({ email, password: 'correct horse battery staple', csrf: csrfTokenOf(page.text) });
    page = await follow(browser, new URL(login.headers.location as string, ISSUER).pathname);
    const consentPath = new URL(page.request.url).pathname;
    expect(page.text).toContain('notes:read');
    const denied = await browser.post(`${consentPath}/confirm`).type('form').send({ decision: 'deny', csrf: csrfTokenOf(page.text) });
    const back = await follow(browser, new URL(denied.headers.location as string, ISSUER).pathname + new URL(denied.headers.location as string, ISSUER).search);
    const location = clientRedirectOf(back);
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('deny-state');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('escapes a hostile client name on the login and consent pages', async () => {
    const { client_id } = await registerClient(app, { client_name: '<script>alert(1)</script>' });
    const browser = app.browser();
    const login = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(login.text).not.toContain('<script>alert(1)</script>');
    expect(login.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const interaction = new URL(login.request.url).pathname;
    const signedIn = await browser.post(`${interaction}/login`).type('form').send({ email, password: 'correct horse battery staple', csrf: csrfTokenOf(login.text) });
    const consent = await follow(browser, new URL(signedIn.headers.location as string, ISSUER).pathname);
    expect(consent.text).toContain('name="decision"');
    expect(consent.text).not.toContain('<script>alert(1)</script>');
    expect(consent.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('a wrong password shows the login page again with a generic error', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const page = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const interaction = new URL(page.request.url).pathname;
    const wrongPassword = await browser.post(`${interaction}/login`).type('form').send({ email, password: 'not the password', csrf: csrfTokenOf(page.text) });
    const unknownEmail = await browser.post(`${interaction}/login`).type('form').send({ email: 'nobody@example.com', password: 'not the password', csrf: csrfTokenOf(page.text) });
    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.status).toBe(401);
      expect(response.text).toContain('name="password"');
      expect(response.text).toContain('That email and password do not match an account');
    }
  });
});
