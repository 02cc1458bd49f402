// Access-token lifetime per resource, RS256 for resource servers that need it, and several signing
// keys published at once after a rotation, the newest signing.
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { TEST_SECRETS, createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { createApp } from '../../src/app.ts';

const apps: TestApp[] = [];
afterAll(async () => { await Promise.all(apps.map((app) => app.close())); });

async function issue(app: TestApp, resource: string) {
  const user = await app.addUser();
  const { client_id } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: client_id, resource, scope: 'notes:read' });
  const token = await exchangeCode(app, { client_id, code: code!, code_verifier: verifier });
  expect(token.status).toBe(200);
  return token.body as { access_token: string; expires_in: number };
}

describe('access tokens', () => {
  it('live as long as their resource says, at most an hour', async () => {
    const app = await createTestApp();
    apps.push(app);
    await app.addResource({ ...notesResource('https://short.example/mcp'), accessTokenTtlSeconds: 120 });
    const token = await issue(app, 'https://short.example/mcp');
    const claims = decodeJwt(token.access_token);
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(token.expires_in).toBe(120);
    await expect(app.addResource({ ...notesResource('https://long.example/mcp'), accessTokenTtlSeconds: 7200 })).rejects.toThrow();
  });

  it('are signed with RS256 when SIGNING_ALG=RS256', async () => {
    const app = await createTestApp({ SIGNING_ALG: 'RS256' });
    apps.push(app);
    await app.addResource(notesResource());
    const token = await issue(app, 'https://mcp.example.com/mcp');
    expect(decodeProtectedHeader(token.access_token).alg).toBe('RS256');
    const jwks = await app.http().get('/jwks');
    await jwtVerify(token.access_token, createLocalJWKSet(jwks.body), { issuer: ISSUER, algorithms: ['RS256'] });
  });
});

describe('signing keys', () => {
  it('after a rotation the newest key signs and the older ones are still published', async () => {
    const app = await createTestApp();
    apps.push(app);
    await app.addResource(notesResource());
    const before = await issue(app, 'https://mcp.example.com/mcp');
    const secrets = TEST_SECRETS;
    const { kids: newKids } = await rotateSigningKeys(app.db, secrets.keyEncryptionSecret, { actor: 'test' }, 0);
    // A server started after the rotation (as after a restart) on the same database.
    const restarted = await createApp({ config: app.config, db: app.db, secrets });
    const { default: request } = await import('supertest');
    const jwks = await request(restarted.app.callback()).get('/jwks').set('Host', 'localhost:4000');
    expect(jwks.body.keys).toHaveLength(6);
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(oldKid);
    await jwtVerify(before.access_token, createLocalJWKSet(jwks.body), { issuer: ISSUER });
    const es256 = jwks.body.keys.find((k: { alg: string }) => k.alg === 'ES256');
    expect(newKids).toContain(es256.kid); // newest first: the new ES256 key is the one that signs
  });
});
