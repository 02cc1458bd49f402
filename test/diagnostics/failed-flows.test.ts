// Real failed authorization and token requests through the koa app: each usual cause is recorded for its
// client with the right explanation, shown by the console page, the admin API and `client diagnose`, and
// no code, token, verifier or secret is ever stored or shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOperatorClient } from '../../src/clients/store.ts';
import { clientDiagnoseCommands } from '../../src/cli/client-diagnose.ts';
import { parseOptions } from '../../src/cli/args.ts';
import { flushFailureWrites } from '../../src/oidc/failure-events.ts';
import { MAX_FAILURES_PER_CLIENT } from '../../src/diagnostics/store.ts';
import {
  authorizeQuery, decide, exchangeCode, follow, obtainCode, pkcePair, refresh, registerClient, REDIRECT_URI, signIn,
} from '../helpers/oauth-flow.ts';
import { notesResource } from '../helpers/test-app.ts';
import { createAdminTestApp, type AdminTestApp } from '../admin/helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
const WEB_REDIRECT = 'https://app.example.com/callback';
let app: AdminTestApp;
/** Every secret value the flows below handled: none may appear in a stored row or an output. */
const secrets: string[] = [];

type Diagnosed = { endpoint: string; error: string; cause: string; explanation: string; fix: string; occurrences: number; request: Record<string, unknown> };

async function diagnosis(clientId: string) {
  await flushFailureWrites();
  const response = await app.api().get(`/admin/api/clients/${encodeURIComponent(clientId)}/diagnostics`);
  expect(response.status, response.text).toBe(200);
  return response.body as { failures: Diagnosed[]; client: { client_id: string } };
}

async function latest(clientId: string): Promise<Diagnosed> {
  const { failures } = await diagnosis(clientId);
  expect(failures.length).toBeGreaterThan(0);
  return failures[0]!;
}

const rowCount = async (clientId: string) => {
  await flushFailureWrites();
  return (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM client_failures WHERE client_id = $1', [clientId])).rows[0]!.n;
};

/** Sends the browser to /auth with S256 PKCE unless overridden; returns the page or redirect it ends on. */
async function authorize(clientId: string, overrides: Parameters<typeof authorizeQuery>[0] extends infer T ? Partial<T> : never = {}) {
  const pkce = pkcePair();
  return follow(app.browser(), authorizeQuery({
    clientId, state: 'st', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256', resource: NOTES, scope: 'notes:read', ...overrides,
  }));
}

/** A person connects the client: its tokens, the code and verifier used, each remembered as a secret. */
async function connect(clientId: string) {
  const got = await obtainCode(app, app.browser(), app.user.email, { clientId, resource: NOTES, scope: 'notes:read' });
  const tokens = await exchangeCode(app, { client_id: clientId, code: got.code!, code_verifier: got.verifier, resource: NOTES });
  expect(tokens.status, tokens.text).toBe(200);
  secrets.push(got.code!, got.verifier, tokens.body.refresh_token, tokens.body.access_token);
  return { ...got, refreshToken: tokens.body.refresh_token as string };
}

beforeAll(async () => {
  // No grace: a refresh token presented again after its rotation is a replay at once.
  app = await createAdminTestApp({ REFRESH_GRACE_SECONDS: '0' });
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => { await app?.close(); });

describe('authorization requests', () => {
  it('a resource that nearly matches a registered one: the difference and the registered spelling', async () => {
    const { client_id } = await registerClient(app);
    // Refused before sign-in: the error goes back to the client (through the leaving page of an unvetted one).
    expect((await authorize(client_id, { resource: `${NOTES}/sse` })).text).not.toContain('name="password"');
    const sse = await latest(client_id);
    expect(sse).toMatchObject({ endpoint: 'authorization', error: 'invalid_target', cause: 'resource_not_registered', request: { resource: [`${NOTES}/sse`] } });
    expect(sse.explanation).toContain(`nearly matches the registered "${NOTES}"`);
    expect(sse.explanation).toContain('has path /mcp/sse where /mcp is registered');
    expect(sse.fix).toContain(`say "${NOTES}"`);

    await authorize(client_id, { resource: 'http://mcp.example.com/mcp' });
    expect((await latest(client_id)).explanation).toContain('uses http where https is registered');
  });

  it('a trailing slash on the resource is forgiven: the request goes on to sign-in and nothing is recorded', async () => {
    const { client_id } = await registerClient(app);
    const page = await authorize(client_id, { resource: `${NOTES}/` });
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="password"');
    expect(await rowCount(client_id)).toBe(0);
  });

  it('a redirect URI not registered: a trailing slash, http against https, another port', async () => {
    const { client_id } = await registerClient(app, { redirect_uris: [WEB_REDIRECT, REDIRECT_URI] });
    expect((await authorize(client_id, { redirectUri: `${REDIRECT_URI}/` })).status).toBe(400);
    const slash = await latest(client_id);
    expect(slash).toMatchObject({ error: 'invalid_redirect_uri', cause: 'redirect_uri_not_registered', request: { redirect_uri: `${REDIRECT_URI}/` } });
    expect(slash.explanation).toContain(`nearly matches "${REDIRECT_URI}": it differs only by a trailing slash`);
    expect(slash.fix).toContain(`Send exactly "${REDIRECT_URI}"`);

    await authorize(client_id, { redirectUri: 'http://app.example.com/callback' });
    expect((await latest(client_id)).explanation).toContain(`nearly matches "${WEB_REDIRECT}": it uses http where https is registered`);
    await authorize(client_id, { redirectUri: 'https://app.example.com:8443/callback' });
    expect((await latest(client_id)).explanation).toContain('uses port 8443 where 443 is registered');
    await authorize(client_id, { redirectUri: 'https://elsewhere.example.net/x' });
    const unrelated = await latest(client_id);
    expect(unrelated.cause).toBe('redirect_uri_not_registered');
    expect(unrelated.explanation).not.toContain('nearly matches');
  });

  it('PKCE missing, and PKCE plain', async () => {
    const { client_id } = await registerClient(app);
    await authorize(client_id, { codeChallenge: undefined, codeChallengeMethod: undefined });
    expect(await latest(client_id)).toMatchObject({ cause: 'pkce_missing', request: { code_challenge: false } });
    await authorize(client_id, { codeChallenge: 'a'.repeat(43), codeChallengeMethod: 'plain' });
    const plain = await latest(client_id);
    expect(plain).toMatchObject({ cause: 'pkce_plain', request: { code_challenge: true, code_challenge_method: 'plain' } });
    expect(plain.fix).toContain('S256');
  });

  it('a person who declines at the consent page', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const pkce = pkcePair();
    const login = await follow(browser, authorizeQuery({ clientId: client_id, state: 'st', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256', resource: NOTES, scope: 'notes:read' }));
    const consent = await signIn(browser, new URL(login.request.url).pathname, app.user.email);
    expect(consent.text).toContain('name="decision"');
    await decide(browser, new URL(consent.request.url).pathname, 'deny');
    const declined = await latest(client_id);
    expect(declined).toMatchObject({ endpoint: 'authorization', error: 'access_denied', cause: 'access_denied' });
    expect(declined.explanation).toContain('declined');
  });

  it('the same request failing again is one row with a count', async () => {
    const { client_id } = await registerClient(app);
    for (let i = 0; i < 3; i += 1) await authorize(client_id, { codeChallenge: undefined, codeChallengeMethod: undefined });
    const { failures } = await diagnosis(client_id);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ cause: 'pkce_missing', occurrences: 3 });
  });

  it('keeps at most MAX_FAILURES_PER_CLIENT rows per client, the most recent ones', async () => {
    const { client_id } = await registerClient(app);
    for (let i = 0; i < MAX_FAILURES_PER_CLIENT + 5; i += 1) await authorize(client_id, { resource: `https://stranger.example.org/${i}` });
    expect(await rowCount(client_id)).toBeLessThanOrEqual(MAX_FAILURES_PER_CLIENT);
    const { failures } = await diagnosis(client_id);
    expect(failures[0]!.request.resource).toEqual([`https://stranger.example.org/${MAX_FAILURES_PER_CLIENT + 4}`]);
  });

  it('records nothing for a client_id nobody registered', async () => {
    const before = (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM client_failures')).rows[0]!.n;
    expect((await authorize('no-such-client', { codeChallenge: undefined })).status).toBe(400);
    const response = await exchangeCode(app, { client_id: 'no-such-client', code: 'x', code_verifier: 'y'.repeat(43) });
    expect(response.body.error).toBe('invalid_client');
    await flushFailureWrites();
    expect((await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM client_failures')).rows[0]!.n).toBe(before);
  });
});

describe('token requests', () => {
  it('an unknown code, a verifier that does not match, a code used twice', async () => {
    const { client_id } = await registerClient(app);
    expect((await exchangeCode(app, { client_id, code: 'not-a-code', code_verifier: 'v'.repeat(43) })).body.error).toBe('invalid_grant');
    expect(await latest(client_id)).toMatchObject({ endpoint: 'token', cause: 'code_unknown_or_expired', request: { grant_type: 'authorization_code', code_verifier: true, client_auth: 'none' } });

    const got = await obtainCode(app, app.browser(), app.user.email, { clientId: client_id, resource: NOTES, scope: 'notes:read' });
    secrets.push(got.code!, got.verifier);
    await exchangeCode(app, { client_id, code: got.code!, code_verifier: pkcePair().verifier });
    expect((await latest(client_id)).cause).toBe('pkce_verifier_mismatch');

    const again = await obtainCode(app, app.browser(), app.user.email, { clientId: client_id, resource: NOTES, scope: 'notes:read' });
    secrets.push(again.code!, again.verifier);
    expect((await exchangeCode(app, { client_id, code: again.code!, code_verifier: again.verifier })).status).toBe(200);
    await exchangeCode(app, { client_id, code: again.code!, code_verifier: again.verifier });
    const replay = await latest(client_id);
    expect(replay.cause).toBe('code_replayed');
    expect(replay.explanation).toContain('single-use');
  });

  it('a refresh token replayed after its rotation, and then the grant gone', async () => {
    const { client_id } = await registerClient(app);
    const { refreshToken } = await connect(client_id);
    const rotated = await refresh(app, { client_id, refresh_token: refreshToken });
    expect(rotated.status, rotated.text).toBe(200);
    secrets.push(rotated.body.refresh_token, rotated.body.access_token);
    expect((await refresh(app, { client_id, refresh_token: refreshToken })).body.error).toBe('invalid_grant');
    const replay = await latest(client_id);
    expect(replay).toMatchObject({ cause: 'refresh_token_replayed', request: { grant_type: 'refresh_token' } });
    expect(replay.explanation).toContain('the whole grant was revoked');

    await refresh(app, { client_id, refresh_token: rotated.body.refresh_token });
    expect((await latest(client_id)).cause).toBe('refresh_token_unknown_or_expired');
  });

  it('a refresh asking for a scope the resource does not declare', async () => {
    const { client_id } = await registerClient(app);
    const { refreshToken } = await connect(client_id);
    const response = await refresh(app, { client_id, refresh_token: refreshToken, scope: 'notes:read notes:admin' });
    expect(response.body.error).toBe('invalid_scope');
    const failure = await latest(client_id);
    expect(failure).toMatchObject({ cause: 'scope_not_declared', request: { scope: 'notes:read notes:admin' } });
    expect(failure.explanation).toContain('notes:admin is not declared');
    expect(failure.fix).toContain('--scope notes:admin=RISK');

    // A declared scope the person did not approve is another cause.
    await refresh(app, { client_id, refresh_token: refreshToken, scope: 'notes:read notes:write' });
    expect((await latest(client_id)).cause).toBe('scope_not_granted');
  });

  it('client authentication failure: a wrong secret', async () => {
    const { clientId, clientSecret } = await addOperatorClient(app.db, { name: 'Confidential app', redirectUris: [REDIRECT_URI], confidential: true });
    secrets.push(clientSecret!);
    const wrong = `${clientSecret!.slice(0, -4)}AAAA`;
    secrets.push(wrong);
    const response = await app.http().post('/token').type('form').auth(clientId, wrong)
      .send({ grant_type: 'authorization_code', code: 'whatever', code_verifier: 'v'.repeat(43), redirect_uri: REDIRECT_URI });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    const failure = await latest(clientId);
    expect(failure).toMatchObject({ cause: 'client_auth_failed', request: { client_auth: 'client_secret_basic' } });
    expect(failure.explanation).toContain('invalid secret provided');

    // A public client (token_endpoint_auth_method none) that sends a secret anyway.
    const { client_id: publicId } = await registerClient(app);
    const sent = await exchangeCode(app, { client_id: publicId, client_secret: 'made-up-secret-value', code: 'whatever', code_verifier: 'v'.repeat(43) });
    secrets.push('made-up-secret-value');
    expect(sent.body.error).toBe('invalid_client');
    expect(await latest(publicId)).toMatchObject({ cause: 'client_auth_method_mismatch', request: { client_auth: 'client_secret_post' } });
  });
});

describe('where an operator reads them', () => {
  it('the console page shows each failure with its cause and fix; an unknown client is a 404', async () => {
    const { client_id } = await registerClient(app, { client_name: 'Diagnosed Client' });
    await authorize(client_id, { redirectUri: `${REDIRECT_URI}/` });
    await authorize(client_id, { resource: `${NOTES}/sse` });
    await flushFailureWrites();
    const browser = await app.adminBrowser();
    const list = await browser.get('/admin/clients');
    expect(list.text).toContain(`/admin/clients/diagnose?id=${encodeURIComponent(client_id)}`);
    const page = await browser.get(`/admin/clients/diagnose?id=${encodeURIComponent(client_id)}`);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Why Diagnosed Client fails');
    expect(page.text).toContain('data-cause="redirect_uri_not_registered"');
    expect(page.text).toContain('data-cause="resource_not_registered"');
    expect(page.text).toContain('differs only by a trailing slash');
    expect(page.text).toContain('has path /mcp/sse where /mcp is registered');
    expect(page.text).toContain('<code>invalid_target</code>');

    const missing = await browser.get('/admin/clients/diagnose?id=no-such-client').set('Accept', 'text/html');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('is not registered');
    const api = await app.api().get('/admin/api/clients/no-such-client/diagnostics');
    expect(api.status).toBe(404);
    expect(api.body.error).toBe('client_not_found');
    // A person who is not an admin sees nothing of it.
    const anonymous = await app.browser().get(`/admin/clients/diagnose?id=${encodeURIComponent(client_id)}`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toContain('/admin/login');
    expect((await app.http().get(`/admin/api/clients/${client_id}/diagnostics`)).status).toBe(401);
  });

  it('no code, token, verifier or secret is in a stored row, the API, the console or the CLI', async () => {
    expect(secrets.length).toBeGreaterThan(10);
    await flushFailureWrites();
    const rows = JSON.stringify((await app.db.query('SELECT * FROM client_failures')).rows);
    const clientIds = (await app.db.query<{ client_id: string }>('SELECT DISTINCT client_id FROM client_failures')).rows.map((r) => r.client_id);
    const browser = await app.adminBrowser();
    const outputs: string[] = [rows];
    for (const clientId of clientIds) {
      outputs.push(JSON.stringify(await diagnosis(clientId)));
      outputs.push((await browser.get(`/admin/clients/diagnose?id=${encodeURIComponent(clientId)}`)).text);
      const command = clientDiagnoseCommands[0]!;
      const result = await command.run({ config: app.config, db: app.db, applied: [] }, parseOptions(command.name, [`--id=${clientId}`], command.options));
      outputs.push(result.text, JSON.stringify(result.json));
    }
    const everything = outputs.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(everything).toContain('refresh_token_replayed');
  });
});
