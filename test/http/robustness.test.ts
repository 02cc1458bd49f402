// Malformed, oversized and hostile input gets a clear OAuth error or a 4xx page, never a 500; a
// database that cannot be reached gets 503 with Retry-After.
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createPgDb } from '../../src/db/pg-db.ts';
import { TEST_SECRETS, createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, obtainCode, pkcePair, registerClient } from '../helpers/oauth-flow.ts';
import request from 'supertest';

let app: TestApp;
let clientId: string;
beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource());
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => app?.close());

const big = (n: number) => 'x'.repeat(n);

describe('the token endpoint under bad input', () => {
  const cases: [string, () => Promise<request.Response>, number, string | undefined][] = [
    ['no body', () => app.http().post('/token'), 400, 'invalid_request'],
    ['a JSON body', () => app.http().post('/token').send({ grant_type: 'authorization_code' }), 400, 'invalid_request'],
    ['garbage form', () => app.http().post('/token').type('form').send('%%%&&&==='), 400, undefined],
    ['an unknown grant_type', () => app.http().post('/token').type('form').send({ grant_type: 'urn:x', client_id: clientId }), 400, 'unsupported_grant_type'],
    ['the password grant', () => app.http().post('/token').type('form').send({ grant_type: 'password', client_id: clientId, username: 'a', password: 'b' }), 400, 'unsupported_grant_type'],
    // The grant exists (machine clients, issue 13) but not for this client: RFC 6749's unauthorized_client.
    ['client_credentials from a public client', () => app.http().post('/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId }), 400, 'unauthorized_client'],
    ['a duplicated grant_type', () => app.http().post('/token').type('form').send('grant_type=authorization_code&grant_type=refresh_token&client_id=' + clientId), 400, 'invalid_request'],
    ['a missing code', () => app.http().post('/token').type('form').send({ grant_type: 'authorization_code', client_id: clientId, redirect_uri: 'http://127.0.0.1:33418/callback' }), 400, 'invalid_request'],
    ['a 50 kB code', () => app.http().post('/token').type('form').send({ grant_type: 'authorization_code', client_id: clientId, code: big(50_000), code_verifier: big(60), redirect_uri: 'http://127.0.0.1:33418/callback' }), 400, 'invalid_grant'],
    ['a 200 kB body', () => app.http().post('/token').type('form').send({ grant_type: 'authorization_code', client_id: clientId, code: big(200_000) }), 400, 'invalid_request'],
    ['a 2 kB code_verifier', () => app.http().post('/token').type('form').send({ grant_type: 'authorization_code', client_id: clientId, code: 'abc', code_verifier: big(2000), redirect_uri: 'http://127.0.0.1:33418/callback' }), 400, 'invalid_grant'],
    ['a resource that is not a URI', () => app.http().post('/token').type('form').send({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'x', resource: 'not a uri' }), 400, 'invalid_grant'],
  ];
  it.each(cases)('%s', async (_label, send, status, error) => {
    const response = await send();
    expect(response.status).toBe(status);
    if (error) expect(response.body.error).toBe(error);
  });
});

describe('the authorization endpoint under bad input', () => {
  it.each([
    ['a 6 kB state', { state: big(6000) }],
    ['a code_challenge of the wrong length', { codeChallenge: 'short' }],
    ['a resource with a fragment', { resource: 'https://mcp.example.com/mcp#x' }],
    ['a relative resource', { resource: '/mcp' }],
    ['response_type=token', { extra: { response_type: 'token' } }],
  ])('%s is refused without a 500', async (_label, overrides) => {
    const query = authorizeQuery({ clientId, resource: 'https://mcp.example.com/mcp', scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256', ...overrides });
    const response = await app.browser().get(query);
    expect(response.status).toBeLessThan(500);
    if (response.status === 303) {
      const location = new URL(response.headers.location as string, 'http://localhost:4000');
      const error = location.searchParams.get('error') ?? new URLSearchParams(location.hash.slice(1)).get('error');
      // Either the request was refused back to the client, or (a long state) it proceeds to sign-in.
      expect(error ?? location.pathname).toMatch(/invalid_|unsupported_|^\/interaction\//);
    }
  });

  it('a 40 kB query string is refused by the HTTP layer, not with a 500', async () => {
    const response = await app.browser().get(authorizeQuery({ clientId, state: big(40_000), codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});

describe('our pages under bad input', () => {
  it('an unknown or expired interaction is a 400 page', async () => {
    const response = await app.browser().get('/interaction/does-not-exist').set('Accept', 'text/html');
    expect(response.status).toBe(400);
    expect(response.text).toContain('expired');
  });

  it('a login POST without an interaction cookie (a forged cross-site POST) is refused', async () => {
    const response = await app.http().post('/interaction/abc/login').type('form').send({ email: 'a@b.c', password: 'x' });
    expect(response.status).toBe(403);
  });

  it('an oversized login form is refused with 413', async () => {
    const response = await app.http().post('/interaction/abc/login').type('form').send({ email: 'a@b.c', password: big(20_000) });
    expect(response.status).toBe(413);
  });

  it('sets the security headers on pages and redirects', async () => {
    const page = await app.browser().get('/interaction/does-not-exist');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const redirect = await app.browser().get(authorizeQuery({ clientId, resource: 'https://mcp.example.com/mcp', scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(redirect.status).toBe(303);
    expect(redirect.headers['referrer-policy']).toBe('no-referrer');
  });
});

// A real outage: the app talks to PostgreSQL through a TCP relay that the test then cuts.
describe.runIf(Boolean(process.env.DATABASE_URL))('database unavailable', () => {
  it('answers 503 with Retry-After on the token endpoint and pages, while discovery still answers', async () => {
    const target = new URL(process.env.DATABASE_URL!);
    const sockets = new Set<Socket>();
    const relay = createTcpServer((inbound) => {
      const outbound = connect(Number(target.port || 5432), target.hostname);
      sockets.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as { port: number }).port;
    const relayed = new URL(process.env.DATABASE_URL!);
    relayed.host = `127.0.0.1:${port}`;
    const { rows } = await app.db.query<{ schema: string }>('SELECT current_schema() AS schema');
    const db = createPgDb(relayed.toString(), { searchPath: rows[0]!.schema, connectionTimeoutMillis: 1000, onIdleClientError: () => {} });
    const { app: koa } = await createApp({ config: app.config, db, secrets: TEST_SECRETS });
    const http = () => request(koa.callback());
    expect((await http().get('/.well-known/oauth-authorization-server').set('Host', 'localhost:4000')).status).toBe(200);

    relay.close();
    for (const socket of sockets) socket.destroy();
    const token = await http().post('/token').type('form').send({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'x' });
    expect(token.status).toBe(503);
    expect(token.headers['retry-after']).toBe('5');
    expect(token.body.error).toBe('temporarily_unavailable');
    // Discovery keeps answering from the scopes last read (test/http/discovery-database-down.test.ts).
    const discovery = await http().get('/.well-known/oauth-authorization-server').set('Host', 'localhost:4000');
    expect(discovery.status).toBe(200);
    const page = await http().post('/interaction/abc/login').type('form').send({ email: 'a@b.c', password: 'x' });
    expect([400, 403, 503]).toContain(page.status);
    await db.close();
  });
});

describe('sign-out', () => {
  it('asks a signed-in person on our page under our CSP, with oidc-provider’s anti-forgery form', async () => {
    const browser = app.browser();
    const user = await app.addUser();
    await obtainCode(app, browser, user.email, { clientId, resource: 'https://mcp.example.com/mcp', scope: 'notes:read' });
    const page = await browser.get('/session/end');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign out?');
    expect(page.text).toContain('id="op.logoutForm"');
    expect(page.text).toContain('name="xsrf"');
    expect(page.text).not.toMatch(/<style|<script/);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('without a session, oidc-provider’s auto-submitting form runs because its script hash joins our CSP', async () => {
    const page = await app.browser().get('/session/end');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  });
});
