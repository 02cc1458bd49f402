// Limits on dynamic client registration: the metadata size cap, the per-IP rate limit (shared through
// the database), and the initial access token that alone lets a confidential client register.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { countRegistrationAttempt } from '../../src/clients/registration-rate-sql.ts';
import { digestClientSecret } from '../../src/clients/secret.ts';
import { createTestApp, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';

const metadata = (extra: Record<string, unknown> = {}) => ({
  client_name: 'Client', redirect_uris: ['http://127.0.0.1:5555/cb'], token_endpoint_auth_method: 'none', ...extra,
});
const countClients = async (app: TestApp) => (await app.db.query(`SELECT 1 FROM oidc_models WHERE model = 'Client'`)).rowCount;

describe('metadata size cap (8 KiB)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await createTestApp(); });
  afterAll(async () => app?.close());

  it('accepts metadata just under the cap and refuses it just over, storing nothing', async () => {
    const under = await app.http().post('/reg').send(metadata({ client_name: 'a'.repeat(7800) }));
    expect(under.status, JSON.stringify(under.body).slice(0, 200)).toBe(201);
    const before = await countClients(app);
    const over = await app.http().post('/reg').send(metadata({ client_name: 'a'.repeat(8300) }));
    expect(over.status).toBe(400);
    expect(over.body).toEqual({ error: 'invalid_client_metadata', error_description: 'client metadata must not exceed 8192 bytes' });
    expect(await countClients(app)).toBe(before);
  });

  it('counts every field, not just the name (many redirect URIs)', async () => {
    const uris = Array.from({ length: 300 }, (_, i) => `https://app.example.com/callback/${i}`);
    const response = await app.http().post('/reg').send(metadata({ redirect_uris: uris }));
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
  });

  it('holds a chunked body without Content-Length to the same cap', async () => {
    const body = JSON.stringify(metadata({ client_name: 'b'.repeat(9000) }));
    const { port } = app.server.address() as AddressInfo;
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port, path: '/reg', method: 'POST',
        headers: { host: 'localhost:4000', 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 4000));
      req.end(body.slice(4000));
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toBe('invalid_client_metadata');
  });
});

describe('per-IP registration rate limit', () => {
  let app: TestApp;
  // TRUST_PROXY lets each test stand for a different client address through X-Forwarded-For.
  beforeAll(async () => { app = await createTestApp({ REGISTRATION_MAX_PER_IP: '3', TRUST_PROXY: 'true' }); });
  afterAll(async () => app?.close());
  const registerFrom = (ip: string, body: unknown = metadata()) => app.http().post('/reg').set('X-Forwarded-For', ip).send(body as object);

  it('answers 429 with Retry-After and an OAuth error body past the limit, and registers nothing', async () => {
    for (let i = 0; i < 3; i += 1) expect((await registerFrom('203.0.113.7')).status).toBe(201);
    const before = await countClients(app);
    const refused = await registerFrom('203.0.113.7');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringContaining(`${retryAfter} seconds`) });
    expect(await countClients(app)).toBe(before);
    // Another address is not affected.
    expect((await registerFrom('203.0.113.8')).status).toBe(201);
  });

  it('counts refused requests too, so probing with bad metadata is throttled as well', async () => {
    for (let i = 0; i < 3; i += 1) expect((await registerFrom('198.51.100.1', metadata({ redirect_uris: ['javascript:alert(1)'] }))).status).toBe(400);
    expect((await registerFrom('198.51.100.1')).status).toBe(429);
  });

  it('counts IPv6 addresses per /64, so rotating through one subscriber\'s addresses does not help', async () => {
    for (let i = 1; i <= 3; i += 1) expect((await registerFrom(`2001:db8:1:2::${i}`)).status).toBe(201);
    expect((await registerFrom('2001:db8:1:2:ffff::9')).status).toBe(429);
    expect((await registerFrom('2001:db8:1:3::1')).status).toBe(201);
  });

  it('is shared by every server process on the database', async () => {
    const second = await createApp({ config: app.config, db: app.db, secrets: TEST_SECRETS });
    const other = request(second.app.callback());
    for (let i = 0; i < 3; i += 1) expect((await registerFrom('192.0.2.50')).status).toBe(201);
    const response = await other.post('/reg').set('Host', 'localhost:4000').set('X-Forwarded-For', '192.0.2.50').send(metadata());
    expect(response.status).toBe(429);
  });

  it('opens a new window once the old one has passed', async () => {
    const limit = { maxPerIp: 1, windowSeconds: 60 };
    const start = new Date('2030-01-01T00:00:00Z');
    expect(await countRegistrationAttempt(app.db, 'ip:window-test', limit, start)).toEqual({ allowed: true });
    expect(await countRegistrationAttempt(app.db, 'ip:window-test', limit, new Date(start.getTime() + 20_000)))
      .toEqual({ allowed: false, retryAfterSeconds: 40 });
    expect(await countRegistrationAttempt(app.db, 'ip:window-test', limit, new Date(start.getTime() + 61_000))).toEqual({ allowed: true });
  });
});

describe('initial access token', () => {
  const TOKEN = 'i'.repeat(24) + 'nitial-access-token';
  let app: TestApp;
  let open: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ REGISTRATION_INITIAL_ACCESS_TOKEN: TOKEN });
    open = await createTestApp();
  });
  afterAll(async () => { await app?.close(); await open?.close(); });
  const confidential = metadata({ token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://app.example.com/cb'] });

  it('keeps open registration for public clients', async () => {
    expect((await app.http().post('/reg').send(metadata())).status).toBe(201);
  });

  it('refuses a confidential registration without the token', async () => {
    const response = await app.http().post('/reg').send(confidential);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
    expect(response.body.error_description).toContain('initial access token');
  });

  it('refuses a wrong token with 401 invalid_token, even for a public client, and stores nothing', async () => {
    const before = await countClients(app);
    for (const body of [confidential, metadata()]) {
      const response = await app.http().post('/reg').set('Authorization', `Bearer ${TOKEN}x`).send(body);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_token');
    }
    expect(await countClients(app)).toBe(before);
  });

  it('registers a confidential client with the token: the secret is shown once and stored as a digest that authenticates', async () => {
    const response = await app.http().post('/reg').set('Authorization', `Bearer ${TOKEN}`).send(confidential);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const { client_id: clientId, client_secret: secret } = response.body as { client_id: string; client_secret: string };
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.body.client_secret_expires_at).toBe(0);
    const { rows } = await app.db.query<{ text: string; payload: { client_secret: string } }>(
      `SELECT payload::text AS text, payload FROM oidc_models WHERE model = 'Client' AND id = $1`, [clientId]);
    expect(rows[0]!.payload.client_secret).toBe(digestClientSecret(secret));
    expect(rows[0]!.text).not.toContain(secret);

    const introspect = (password: string) => app.http().post('/token/introspection').auth(clientId, password).type('form').send({ token: 'x' });
    expect((await introspect(secret)).status).toBe(200);
    const wrong = await introspect(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });

  it('without a configured token, no bearer unlocks confidential registration', async () => {
    const response = await open.http().post('/reg').set('Authorization', `Bearer ${TOKEN}`).send(confidential);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
  });
});
