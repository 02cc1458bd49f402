// Authorization server metadata where every MCP client revision looks for it, complete and
// consistent, including the path-inserted forms for an issuer with a path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

describe('discovery at the root issuer', () => {
  let app: TestApp;
  beforeAll(async () => { app = await createTestApp(); await app.addResource(notesResource()); });
  afterAll(async () => app?.close());

  it('serves identical RFC 8414 and OIDC documents with the MCP-required fields', async () => {
    const oauth = await app.http().get('/.well-known/oauth-authorization-server');
    const oidc = await app.http().get('/.well-known/openid-configuration');
    expect(oauth.status).toBe(200);
    expect(oauth.body).toEqual(oidc.body);
    const metadata = oauth.body;
    expect(metadata.issuer).toBe('http://localhost:4000');
    expect(metadata.authorization_endpoint).toBe('http://localhost:4000/auth');
    expect(metadata.token_endpoint).toBe('http://localhost:4000/token');
    expect(metadata.registration_endpoint).toBe('http://localhost:4000/reg');
    expect(metadata.jwks_uri).toBe('http://localhost:4000/jwks');
    expect(metadata.introspection_endpoint).toBeDefined();
    expect(metadata.revocation_endpoint).toBeDefined();
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    expect(metadata.grant_types_supported).not.toContain('implicit');
    expect(metadata.grant_types_supported).not.toContain('password');
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.token_endpoint_auth_methods_supported).toContain('none');
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['notes:read', 'notes:write', 'notes:delete']));
  });

  it('lists a resource registered after start without a restart', async () => {
    await app.addResource({ uri: 'https://late.example/mcp', name: 'Late', scopes: [{ scope: 'late:read', risk: 'read', description: '' }] });
    const metadata = await app.http().get('/.well-known/oauth-authorization-server');
    expect(metadata.body.scopes_supported).toContain('late:read');
  });

  it('publishes public signing keys only', async () => {
    const jwks = await app.http().get('/jwks');
    expect(jwks.status).toBe(200);
    const algs = jwks.body.keys.map((key: { alg: string }) => key.alg).sort();
    expect(algs).toEqual(['ES256', 'EdDSA', 'RS256']);
    for (const key of jwks.body.keys) {
      expect(key.d).toBeUndefined();
      expect(key.p).toBeUndefined();
    }
    const { rows } = await app.db.query<{ private_jwk_jwe: string }>('SELECT private_jwk_jwe FROM signing_keys');
    for (const row of rows) expect(row.private_jwk_jwe.split('.')).toHaveLength(5); // a compact JWE, not a JWK
  });

  it('answers /healthz', async () => {
    const health = await app.http().get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
  });
});

describe('discovery for an issuer with a path', () => {
  let app: TestApp;
  beforeAll(async () => { app = await createTestApp({ ISSUER: 'http://localhost:4000/tenant-a' }); });
  afterAll(async () => app?.close());

  it('serves every form MCP clients try, each naming the same issuer and prefixed endpoints', async () => {
    const paths = [
      '/.well-known/oauth-authorization-server/tenant-a',
      '/.well-known/openid-configuration/tenant-a',
      '/tenant-a/.well-known/openid-configuration',
    ];
    for (const path of paths) {
      const response = await app.http().get(path);
      expect(response.status, path).toBe(200);
      expect(response.body.issuer).toBe('http://localhost:4000/tenant-a');
      expect(response.body.authorization_endpoint).toBe('http://localhost:4000/tenant-a/auth');
      expect(response.body.token_endpoint).toBe('http://localhost:4000/tenant-a/token');
    }
    expect((await app.http().get('/.well-known/oauth-authorization-server')).status).toBe(404);
    expect((await app.http().get('/tenant-a/healthz')).status).toBe(200);
  });
});
