// Behind a TLS-terminating proxy (TRUST_PROXY=true, an https issuer): endpoints are https URLs and
// sign-in cookies are Secure, HttpOnly and SameSite=Lax.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addResource } from '../../src/resources/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { TEST_SECRETS, notesResource } from '../helpers/test-app.ts';
import { pkcePair } from '../helpers/oauth-flow.ts';

let testDb: TestDb;
let proxied: () => request.Agent;
beforeAll(async () => {
  testDb = await createMigratedTestDb();
  const config = loadConfig({ ISSUER: 'https://auth.example.com', TRUST_PROXY: 'true' });
  await addResource(testDb.db, notesResource(), 300);
  const { app } = await createApp({ config, db: testDb.db, secrets: TEST_SECRETS });
  proxied = () => request.agent(app.callback()).set('Host', 'auth.example.com').set('X-Forwarded-Proto', 'https');
});
afterAll(async () => testDb?.cleanup());

describe('behind a TLS proxy', () => {
  it('advertises https endpoints and sets Secure, HttpOnly, SameSite=Lax cookies', async () => {
    const metadata = await proxied().get('/.well-known/oauth-authorization-server');
    expect(metadata.body.token_endpoint).toBe('https://auth.example.com/token');
    const registered = await proxied().post('/reg').send({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' });
    const query = new URLSearchParams({
      response_type: 'code', client_id: registered.body.client_id, redirect_uri: 'http://127.0.0.1:9/cb', scope: 'notes:read',
      resource: 'https://mcp.example.com/mcp', code_challenge: pkcePair().challenge, code_challenge_method: 'S256', state: 's',
    });
    const response = await proxied().get(`/auth?${query}`);
    expect(response.status).toBe(303);
    expect(response.headers.location).toMatch(/^\/interaction\//);
    const cookies = [response.headers['set-cookie'] ?? []].flat() as string[];
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase()).toContain('secure');
      expect(cookie.toLowerCase()).toContain('httponly');
      expect(cookie.toLowerCase()).toContain('samesite=lax');
    }
  });
});
