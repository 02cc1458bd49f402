// Headers a client writes itself cannot move it to another address or move our endpoints: behind
// TRUST_PROXY the client's address is the right-most X-Forwarded-For entry no trusted proxy added, and
// discovery names endpoints under ISSUER whatever Host, X-Forwarded-Host or X-Forwarded-Proto say.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

let apps: TestApp[] = [];
afterEach(async () => { await Promise.all(apps.map((app) => app.close())); apps = []; });
const testApp = async (environment: Record<string, string>) => {
  const app = await createTestApp(environment);
  apps.push(app);
  return app;
};

const tokenRequest = (app: TestApp, forwardedFor: string) => app.http().post('/token').set('X-Forwarded-For', forwardedFor)
  .type('form').send({ grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: 'nobody' });

describe('client address behind a proxy', () => {
  it('counts the address the trusted proxy saw, however the client fills the left of X-Forwarded-For', async () => {
    const app = await testApp({ TRUST_PROXY: 'true', TOKEN_RATE_MAX_PER_IP: '3', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    // The client invents a new left-most address each time; our proxy appends the one it saw.
    for (let i = 0; i < 3; i += 1) expect((await tokenRequest(app, `10.9.${i}.1, 198.51.100.7`)).status).toBe(401);
    const spoofed = await tokenRequest(app, '10.9.99.1, 198.51.100.7');
    expect(spoofed.status).toBe(429);
    expect(Number(spoofed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another real address is counted on its own.
    expect((await tokenRequest(app, '10.9.99.1, 198.51.100.8')).status).toBe(401);
  });

  it('with TRUST_PROXY_HOPS=2 the client is the second entry from the right', async () => {
    const app = await testApp({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2', TOKEN_RATE_MAX_PER_IP: '2', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    for (let i = 0; i < 2; i += 1) expect((await tokenRequest(app, `1.1.1.${i}, 198.51.100.7, 10.0.0.2`)).status).toBe(401);
    expect((await tokenRequest(app, '1.1.1.9, 198.51.100.7, 10.0.0.3')).status).toBe(429);
    expect((await tokenRequest(app, '1.1.1.9, 198.51.100.9, 10.0.0.2')).status).toBe(401);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: the socket address counts', async () => {
    const app = await testApp({ TOKEN_RATE_MAX_PER_IP: '2', TOKEN_RATE_WINDOW_SECONDS: '3600' });
    for (let i = 0; i < 2; i += 1) expect((await tokenRequest(app, `203.0.113.${i}`)).status).toBe(401);
    expect((await tokenRequest(app, '203.0.113.50')).status).toBe(429);
  });
});

const ENDPOINT_FIELDS = ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'jwks_uri',
  'introspection_endpoint', 'revocation_endpoint', 'end_session_endpoint'];

describe.each([
  ['direct', {}],
  ['behind a trusted proxy', { TRUST_PROXY: 'true' }],
])('discovery with hostile host headers (%s)', (_name, environment: Record<string, string>) => {
  for (const issuer of ['http://localhost:4000', 'https://auth.example.com/tenant']) {
    it(`names endpoints under ${issuer} only, and may be cached`, async () => {
      const app = await testApp({ ...environment, ISSUER: issuer });
      const mount = new URL(issuer).pathname.replace(/\/$/, '');
      const paths = [`${mount}/.well-known/openid-configuration`, `/.well-known/oauth-authorization-server${mount}`];
      // Another spelling is sent to the canonical path (src/http/canonical-path.ts) by a relative
      // redirect, which no Host header can point elsewhere.
      const odd = await app.http().get(`${mount}/.WELL-KNOWN/openid-configuration/`).set('Host', 'evil.example')
        .set('X-Forwarded-Host', 'evil.example:8443').set('Forwarded', 'host=evil.example;proto=https');
      expect(odd.status).toBe(308);
      expect(odd.headers.location).toBe(`${mount}/.well-known/openid-configuration`);
      for (const path of paths) {
        const response = await app.http().get(path).set('Host', 'evil.example')
          .set('X-Forwarded-Host', 'evil.example:8443').set('X-Forwarded-Proto', 'https')
          .set('Forwarded', 'host=evil.example;proto=https');
        expect(response.status, path).toBe(200);
        expect(response.body.issuer).toBe(issuer);
        for (const field of ENDPOINT_FIELDS) {
          expect(response.body[field], `${path} ${field}`).toMatch(new RegExp(`^${issuer.replace(/[.]/g, '\\.')}/`));
        }
        expect(JSON.stringify(response.body)).not.toContain('evil.example');
        expect(response.headers['cache-control']).toBe('public, max-age=300');
      }
    });
  }
});
