// No secret reaches a log line: a whole flow (registration, authorize, sign-in with a wrong and a right
// password, consent, code exchange, refresh, introspection, revocation) runs with every line captured at
// debug level, and none may contain the password, code, verifier, tokens, client secret or cookies.
import { Writable } from 'node:stream';
import { CookieAccessInfo } from 'cookiejar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushAuditWrites } from '../src/oidc/audit-events.ts';
import { log, setLogDestination, setLogLevel } from '../src/log.ts';
import { createTestApp, notesResource, PASSWORD, type TestApp } from './helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, exchangeCode, follow, obtainCode, pkcePair, refresh } from './helpers/oauth-flow.ts';
import { runCommand } from './helpers/cli-in-process.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
let app: TestApp;
let captured = '';
const secrets = new Map<string, string>();

beforeAll(async () => {
  setLogLevel('debug');
  setLogDestination(new Writable({ write(chunk, _encoding, done) { captured += String(chunk); done(); } }));
  app = await createTestApp();
  await app.addResource({ ...notesResource(RESOURCE) });
  const { email } = await app.addUser();
  secrets.set('password', PASSWORD);

  const registration = await app.http().post('/reg').send({
    client_name: 'Log test', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none',
  });
  expect(registration.status).toBe(201);
  const clientId = registration.body.client_id as string;
  secrets.set('registration_access_token', registration.body.registration_access_token as string);

  const browser = app.browser();
  // A wrong password first: failures are the likeliest to be logged with their input.
  const pkce = pkcePair();
  const page = await follow(browser, authorizeQuery({ clientId, resource: RESOURCE, scope: 'notes:read', state: 'st', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  const wrong = 'not-the-password-7f3a9c';
  secrets.set('wrong password', wrong);
  await browser.post(`${new URL(page.request.url).pathname}/login`).type('form').send({ email, password: wrong, csrf: csrfTokenOf(page.text) });

  const { code, verifier } = await obtainCode(app, browser, email, { clientId, resource: RESOURCE, scope: 'notes:read' });
  secrets.set('code', code!);
  secrets.set('code_verifier', verifier);
  const tokens = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: RESOURCE });
  expect(tokens.status).toBe(200);
  secrets.set('access_token', tokens.body.access_token as string);
  secrets.set('refresh_token', tokens.body.refresh_token as string);
  const refreshed = await refresh(app, { client_id: clientId, refresh_token: tokens.body.refresh_token as string });
  expect(refreshed.status).toBe(200);
  secrets.set('refreshed access_token', refreshed.body.access_token as string);
  secrets.set('refreshed refresh_token', refreshed.body.refresh_token as string);

  // Introspection by a confidential client (its secret in Basic auth), then revocation.
  const introspector = await runCommand(app.db, ['client', 'add', '--name', 'Notes server', '--introspection', '--resource', RESOURCE]);
  secrets.set('client_secret', introspector.client_secret as string);
  const introspection = await app.http().post('/token/introspection').type('form')
    .auth(String(introspector.client_id), String(introspector.client_secret))
    .send({ token: refreshed.body.refresh_token as string });
  expect(introspection.status).toBe(200);
  const revocation = await app.http().post('/token/revocation').type('form')
    .send({ client_id: clientId, token: refreshed.body.refresh_token as string });
  expect(revocation.status).toBe(200);
  // A careless client putting a token and a code in a query string: paths are logged without queries.
  await app.http().get(`/healthz?access_token=${tokens.body.access_token as string}&code=${code!}`);

  const jar = (browser as unknown as { jar: { getCookies(info: unknown): { name: string; value: string }[] } }).jar;
  for (const cookie of jar.getCookies(CookieAccessInfo.All)) {
    if (cookie.value.length >= 16) secrets.set(`cookie ${cookie.name}`, cookie.value);
  }
  await flushAuditWrites();
});

afterAll(async () => {
  setLogDestination(undefined);
  setLogLevel('warn');
  await app?.close();
});

describe('log lines of a whole flow', () => {
  it('were captured: one access-log line per request, with the path but no query', () => {
    const lines = captured.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests.length).toBeGreaterThan(15);
    for (const line of requests) {
      expect(line).toMatchObject({ level: 'info', method: expect.any(String), status: expect.any(Number), duration_ms: expect.any(Number) });
      expect(String(line.path)).not.toContain('?');
      expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(requests.find((line) => line.path === '/token')).toMatchObject({ route: 'token', status: 200 });
    expect(requests.find((line) => line.path === '/healthz')).toMatchObject({ route: '/healthz', status: 200 });
    expect(secrets.size).toBeGreaterThanOrEqual(12);
    expect([...secrets.keys()].some((name) => name.startsWith('cookie '))).toBe(true);
  });

  it('contain none of the secrets', () => {
    for (const [name, value] of secrets) expect(captured.includes(value), `${name} appears in the logs`).toBe(false);
  });

  it('redact credential fields a caller passes by mistake', () => {
    const before = captured.length;
    log.warn('oops', { password: 'hunter2-xyz', params: { code: 'c0de-xyz', refresh_token: 'rt-xyz' }, headers: { authorization: 'Bearer at-xyz', cookie: 'sid=xyz' } });
    const line = captured.slice(before);
    for (const value of ['hunter2-xyz', 'c0de-xyz', 'rt-xyz', 'at-xyz', 'sid=xyz']) expect(line).not.toContain(value);
    expect(line).toContain('[Redacted]');
  });
});
