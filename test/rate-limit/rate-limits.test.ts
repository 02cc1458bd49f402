// Rate limits on the token endpoint (per client IP, per client) and on metadata-document fetches
// answer 429 with Retry-After and an OAuth error body, on both shared stores: the database, and Redis
// when REDIS_URL is set (keys under a random prefix, deleted afterwards). Two apps share one count.
// The Redis backend is tested when TEST_REDIS_URL names a Redis server (.ci/run sets it and starts one).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addOperatorClient } from '../../src/clients/store.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, authorizeQuery, follow, pkcePair, registerClient } from '../helpers/oauth-flow.ts';
import { CIMD_DEV_ENV, clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;
const prefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
let redis: Redis | undefined;
let cleanups: Array<() => Promise<void>> = [];

beforeAll(() => { if (REDIS_URL) redis = new Redis(REDIS_URL); });
afterEach(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  cleanups = [];
});
afterAll(async () => {
  if (!redis) return;
  // Nothing left behind in the shared Redis.
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  expect(await redis.keys(`${prefix}*`)).toEqual([]);
  redis.disconnect();
});

const backends: [string, Record<string, string>][] = [
  ['database', {}],
  ...(REDIS_URL ? [['redis', { REDIS_URL, REDIS_KEY_PREFIX: prefix }] as [string, Record<string, string>]] : []),
];

// Each test counts from zero: on Redis, under its own prefix (below the file's, which afterAll clears).
let testNumber = 0;
const isolated = (environment: Record<string, string>) =>
  (environment.REDIS_KEY_PREFIX ? { ...environment, REDIS_KEY_PREFIX: `${prefix}${(testNumber += 1)}:` } : environment);

async function testApp(environment: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp(environment);
  cleanups.push(() => app.close());
  return app;
}

const tokenRequest = (agent: ReturnType<TestApp['http']>, clientId = 'nobody') =>
  agent.post('/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: clientId });

function expectRateLimited(response: request.Response, windowSeconds: number) {
  expect(response.status, response.text).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body).toMatchObject({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/too many/) });
}

describe.each(backends)('token endpoint rate limits (%s)', (backend, environment: Record<string, string>) => {
  it('refuses a client IP past TOKEN_RATE_MAX_PER_IP with 429 and Retry-After', async () => {
    const env = isolated(environment);
    const app = await testApp({ ...env, TOKEN_RATE_MAX_PER_IP: '3', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    for (let i = 0; i < 3; i += 1) expect((await tokenRequest(app.http())).status).toBe(401);
    expectRateLimited(await tokenRequest(app.http()), 3600);
    // Other endpoints are not touched by it.
    expect((await app.http().get('/.well-known/oauth-authorization-server')).status).toBe(200);
    if (backend === 'redis') expect((await redis!.keys(`${prefix}*token_ip:*`)).length).toBeGreaterThan(0);
  });

  it('refuses a client past TOKEN_RATE_MAX_PER_CLIENT, and only that client', async () => {
    const env = isolated(environment);
    const app = await testApp({ ...env, TOKEN_RATE_MAX_PER_CLIENT: '2', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    // Requests count once they speak for the client (its secret shown): see test/rate-limit/shared-budgets.test.ts.
    const confidential = () => addOperatorClient(app.db, { name: 'Backend', redirectUris: [REDIRECT_URI], confidential: true });
    const busy = await confidential();
    const calm = await confidential();
    const authenticated = (client: { clientId: string; clientSecret?: string }) => app.http().post('/token')
      .auth(client.clientId, client.clientSecret!).type('form').send({ grant_type: 'refresh_token', refresh_token: 'not-a-token' });
    for (let i = 0; i < 2; i += 1) expect((await authenticated(busy)).body.error).toBe('invalid_grant');
    expectRateLimited(await authenticated(busy), 3600);
    expect((await authenticated(calm)).body.error).toBe('invalid_grant');
    // A client_id nobody registered gets no bucket: invalid_client, never 429 from the client limit.
    for (let i = 0; i < 4; i += 1) expect((await tokenRequest(app.http(), `made-up-${i % 2}`)).status).toBe(401);
  });

  it('two apps on one database (two processes) share the count', async () => {
    const env = isolated(environment);
    const first = await testApp({ ...env, TOKEN_RATE_MAX_PER_IP: '10', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    const { app: secondApp, close } = await createApp({
      config: loadConfig({ ISSUER, ...env, TOKEN_RATE_MAX_PER_IP: '10', TOKEN_RATE_WINDOW_SECONDS: '3600' }),
      db: first.db, secrets: TEST_SECRETS,
    });
    cleanups.unshift(close);
    const second = () => request(secondApp.callback()).post('/token').set('Host', new URL(ISSUER).host).type('form')
      .send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody' });
    for (let i = 0; i < 6; i += 1) expect((await tokenRequest(first.http())).status).toBe(401);
    // The first app reports each hit off the request path: wait until the shared store holds all six (a
    // fixed pause was too short on a loaded machine), so the second app's count starts from them.
    const storedHits = async () => {
      if (env.REDIS_KEY_PREFIX) {
        const keys = await redis!.keys(`${env.REDIS_KEY_PREFIX}*`);
        const values = keys.length ? await redis!.mget(...keys) : [];
        return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
      }
      const { rows } = await first.db.query<{ hits: number }>('SELECT COALESCE(sum(hits), 0)::int AS hits FROM rate_limit_counters');
      return rows[0]!.hits;
    };
    for (let waited = 0; (await storedHits()) < 6; waited += 10) {
      expect(waited, 'the first app\'s six hits reach the shared store').toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await storedHits()).toBe(6);
    let refusedAt = 0;
    for (let i = 1; i <= 10 && refusedAt === 0; i += 1) if ((await second()).status === 429) refusedAt = i;
    // Alone, the second app would allow 10; with the first app's 6 counted it stops at its 5th (its
    // own report lands while the request runs, so one more may pass).
    expect(refusedAt).toBeGreaterThanOrEqual(5);
    expect(refusedAt).toBeLessThanOrEqual(6);
  });
});

describe.each(backends)('metadata document fetch rate limits (%s)', (_backend, environment: Record<string, string>) => {
  let docs: DocumentServer;
  beforeAll(async () => { docs = await startDocumentServer(); });
  afterAll(async () => docs?.close());

  it('refuses fetches past CIMD_FETCH_MAX_PER_HOST with 429; cached documents are not fetched again', async () => {
    const env = isolated(environment);
    const app = await testApp({ ...env, ...CIMD_DEV_ENV, CIMD_FETCH_MAX_PER_HOST: '2', CIMD_FETCH_WINDOW_SECONDS: '3600' });
    await app.addResource(notesResource());
    const authorize = (clientId: string) => {
      const pkce = pkcePair();
      return follow(app.browser(), authorizeQuery({ clientId, resource: 'https://mcp.example.com/mcp', scope: 'notes:read', state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    };
    const urls = ['/a/client.json', '/b/client.json', '/c/client.json'].map((path) => {
      const url = docs.url(path);
      docs.serveJson(path, clientDocument(url, REDIRECT_URI, { client_name: `Client ${path}` }), { 'Cache-Control': 'max-age=3600' });
      return url;
    });
    expect((await authorize(urls[0]!)).status).toBe(200); // the sign-in page
    expect((await authorize(urls[0]!)).status).toBe(200); // cached: no fetch
    expect((await authorize(urls[1]!)).status).toBe(200);
    const refused = await authorize(urls[2]!);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.text).toContain('temporarily_unavailable');
    expect(refused.headers.location).toBeUndefined(); // never redirected to a client
  });
});
