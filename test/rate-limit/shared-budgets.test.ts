// Budgets many share cannot be spent by a stranger: a client's token budget counts only requests that
// spoke for it (tokens issued, or its secret shown), and a metadata-document host's fetch budget is
// spent per requesting address first. On the database store, and on Redis when TEST_REDIS_URL is set.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addOperatorClient } from '../../src/clients/store.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, authorizeQuery, exchangeCode, follow, obtainCode, pkcePair, refresh, registerClient } from '../helpers/oauth-flow.ts';
import { CIMD_DEV_ENV, clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;
const prefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
let redis: Redis | undefined;
let testNumber = 0;
let apps: TestApp[] = [];

beforeAll(() => { if (REDIS_URL) redis = new Redis(REDIS_URL); });
afterEach(async () => { await Promise.all(apps.map((app) => app.close())); apps = []; });
afterAll(async () => {
  if (!redis) return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const backends: [string, Record<string, string>][] = [
  ['database', {}],
  ...(REDIS_URL ? [['redis', { REDIS_URL }] as [string, Record<string, string>]] : []),
];

async function testApp(backend: Record<string, string>, environment: Record<string, string>): Promise<TestApp> {
  const isolated = backend.REDIS_URL ? { ...backend, REDIS_KEY_PREFIX: `${prefix}${(testNumber += 1)}:` } : backend;
  const app = await createTestApp({ ...isolated, ...environment });
  apps.push(app);
  return app;
}

const NOTES = 'https://mcp.example.com/mcp';

describe.each(backends)('a client\'s token budget (%s)', (_name, backend) => {
  it('strangers sending a public client\'s client_id spend nothing; the client\'s own exchange still succeeds', async () => {
    const app = await testApp(backend, { TOKEN_RATE_MAX_PER_CLIENT: '2', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    await app.addResource(notesResource());
    const victim = (await registerClient(app)).client_id;
    const email = `victim-${randomBytes(4).toString('hex')}@example.com`;
    await app.addUser(email);
    const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId: victim, resource: NOTES, scope: 'notes:read' });
    for (let i = 0; i < 8; i += 1) {
      const forged = i % 2 === 0
        ? await refresh(app, { client_id: victim, refresh_token: `guess-${i}` })
        : await exchangeCode(app, { client_id: victim, code: `guess-${i}`, code_verifier: verifier });
      expect(forged.status, forged.text).toBe(400);
      expect(forged.body.error).toBe('invalid_grant');
    }
    const exchanged = await exchangeCode(app, { client_id: victim, code: code!, code_verifier: verifier });
    expect(exchanged.status, exchanged.text).toBe(200);
    // The client's own successes do count: two allowed, the third refused.
    expect((await refresh(app, { client_id: victim, refresh_token: exchanged.body.refresh_token })).status).toBe(200);
    const third = await refresh(app, { client_id: victim, refresh_token: 'anything' });
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('a confidential client: wrong secrets are not counted, requests with its secret are', async () => {
    const app = await testApp(backend, { TOKEN_RATE_MAX_PER_CLIENT: '2', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    const { clientId, clientSecret } = await addOperatorClient(app.db, { name: 'Backend', redirectUris: [REDIRECT_URI], confidential: true });
    const withSecret = (secret: string) => app.http().post('/token').auth(clientId, secret).type('form')
      .send({ grant_type: 'refresh_token', refresh_token: 'not-a-token' });
    for (let i = 0; i < 6; i += 1) expect((await withSecret(`wrong-${i}`)).body.error).toBe('invalid_client');
    expect((await withSecret(clientSecret!)).body.error).toBe('invalid_grant');
    expect((await withSecret(clientSecret!)).body.error).toBe('invalid_grant');
    expect((await withSecret(clientSecret!)).status).toBe(429);
  });
});

describe.each(backends)('a metadata-document host\'s fetch budget (%s)', (_name, backend) => {
  let docs: DocumentServer;
  beforeAll(async () => { docs = await startDocumentServer(); });
  afterAll(async () => docs?.close());

  it('one address spending its share of a host does not block another address', async () => {
    const app = await testApp(backend, {
      ...CIMD_DEV_ENV, TRUST_PROXY: 'true', CIMD_FETCH_MAX_PER_HOST_PER_IP: '2', CIMD_FETCH_MAX_PER_HOST: '5',
      CIMD_FETCH_WINDOW_SECONDS: '3600',
    });
    await app.addResource(notesResource());
    const documentUrl = (name: string) => {
      const path = `/${name}/client.json`;
      const url = docs.url(path);
      docs.serveJson(path, clientDocument(url, REDIRECT_URI), { 'Cache-Control': 'max-age=3600' });
      return url;
    };
    const authorizeFrom = (address: string, clientId: string) => {
      const pkce = pkcePair();
      return follow(app.browser().set('X-Forwarded-For', address),
        authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    };
    const attacker = '198.51.100.66';
    expect((await authorizeFrom(attacker, documentUrl('a1'))).status).toBe(200);
    expect((await authorizeFrom(attacker, documentUrl('a2'))).status).toBe(200);
    for (let i = 3; i <= 8; i += 1) {
      const refused = await authorizeFrom(attacker, documentUrl(`a${i}`));
      expect(refused.status).toBe(429);
      expect(refused.text).toContain('by this address');
    }
    // Refused fetches never left: the host saw two of the attacker's, and another address is served.
    expect(docs.hits.get('/a3/client.json')).toBeUndefined();
    expect((await authorizeFrom('203.0.113.5', documentUrl('b1'))).status).toBe(200);
    expect((await authorizeFrom('203.0.113.6', documentUrl('c1'))).status).toBe(200);
    // The host's total still bounds everyone together (5).
    expect((await authorizeFrom('203.0.113.7', documentUrl('d1'))).status).toBe(200);
    const overHost = await authorizeFrom('203.0.113.8', documentUrl('e1'));
    expect(overHost.status).toBe(429);
    expect(overHost.text).not.toContain('by this address');
  });
});
