// The authorization server's /token/introspection (RFC 7662) as kit servers and attackers see it: a JWT
// access token gets active true or false like an opaque one (never 400 unsupported_token_type), and a
// public client, which authenticates with nothing, is refused 401 invalid_client whatever the token.
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addIntrospectionClient } from '../../src/clients/store.ts';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { retireSigningKey } from '../../src/oidc/keys-lifecycle.ts';
import { createResourceServer, type ResourceServerOptions } from '@portcullis/resource-server';
import { exchangeCode, obtainCode, REDIRECT_URI, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';

const JWT = 'https://jwt.example.com/mcp';
const OTHER = 'https://other.example.com/mcp';
const OPAQUE = 'https://opaque.example.com/mcp';

let app: TestApp;
let email: string;
let clientId: string;
let introspector: { clientId: string; clientSecret: string };
let otherIntrospector: { clientId: string; clientSecret: string };

beforeAll(async () => {
  app = await createTestApp();
  email = (await app.addUser()).email;
  await app.addResource(notesResource(JWT));
  await app.addResource(notesResource(OTHER));
  await app.addResource({ ...notesResource(OPAQUE), accessTokenFormat: 'opaque' });
  clientId = (await registerClient(app)).client_id;
  introspector = await addIntrospectionClient(app.db, { name: 'JWT notes server', resource: JWT });
  otherIntrospector = await addIntrospectionClient(app.db, { name: 'Other server', resource: OTHER });
});
afterAll(async () => { await app.close(); });

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const introspect = (token: string, as = introspector, secret = as.clientSecret) =>
  app.http().post('/token/introspection').set('Authorization', basic(as.clientId, secret)).type('form').send({ token });

async function tokensFor(resource: string) {
  const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource, scope: 'notes:read' });
  const response = await exchangeCode(app, { code: code ?? '', code_verifier: verifier, client_id: clientId, resource });
  expect(response.status, response.text).toBe(200);
  return response.body as { access_token: string; refresh_token: string };
}

/** A kit server for `resource` on the test app (it answers for ISSUER but listens on a random port). */
function kitFor(resource: string, options: Partial<ResourceServerOptions> = {}) {
  const { port } = app.server.address() as AddressInfo;
  return createResourceServer({
    resource, issuer: ISSUER, ...options,
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers);
      headers.set('host', url.host);
      return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { ...init, headers });
    },
  });
}

/** Tokens for JWT bound to a fresh DPoP key (RFC 9449): the proof signs the token request. */
async function dpopBoundTokens() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const proof = await new SignJWT({ htm: 'POST', htu: `${ISSUER}/token`, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) }).setIssuedAt().sign(privateKey);
  const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource: JWT, scope: 'notes:read' });
  const response = await app.http().post('/token').set('DPoP', proof).type('form').send({
    grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, code: code ?? '', code_verifier: verifier, client_id: clientId, resource: JWT,
  });
  expect(response.status, response.text).toBe(200);
  expect(response.body.token_type).toBe('DPoP');
  return response.body as { access_token: string };
}

const payloadOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('a JWT access token at the introspection endpoint', () => {
  it('is active for its resource’s introspection client, with its claims (RFC 7662 §2.2)', async () => {
    const { access_token } = await tokensFor(JWT);
    expect(access_token.split('.')).toHaveLength(3);
    const response = await introspect(access_token);
    expect(response.status, response.text).toBe(200);
    const claims = payloadOf(access_token);
    expect(response.body).toMatchObject({
      active: true, iss: ISSUER, aud: JWT, scope: 'notes:read', client_id: clientId, token_type: 'Bearer',
      sub: claims.sub, exp: claims.exp, iat: claims.iat, jti: claims.jti,
    });
    expect(response.headers['cache-control']).toContain('no-store');
  });

  it('is inactive for the introspection client of another resource, and it learns no claim', async () => {
    const { access_token } = await tokensFor(JWT);
    const response = await introspect(access_token, otherIntrospector);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ active: false });
  });

  it('is inactive when forged, malformed, or signed by a key we do not publish', async () => {
    const { access_token } = await tokensFor(JWT);
    const [header, , signature] = access_token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...payloadOf(access_token), scope: 'notes:delete' })).toString('base64url');
    for (const token of [`${header}.${forgedPayload}.${signature}`, 'eyJhbGciOiJFUzI1NiJ9.e30.x', `${header}.e30.${signature}`]) {
      const response = await introspect(token);
      expect(response.status, token).toBe(200);
      expect(response.body).toEqual({ active: false });
    }
  });

  it('turns inactive once its signing key is retired with --force (and a token of the new key is active)', async () => {
    const { access_token } = await tokensFor(JWT);
    expect((await introspect(access_token)).body.active).toBe(true);
    await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, { actor: 'cli' }, 0);
    await app.signingKeys.refresh();
    await retireSigningKey(app.db, decodeProtectedHeader(access_token).kid!, { force: true, operator: { actor: 'cli' } });
    expect(await app.signingKeys.refresh()).toBe(true);
    expect((await introspect(access_token)).body).toEqual({ active: false });
    const fresh = await tokensFor(JWT);
    expect((await introspect(fresh.access_token)).body).toMatchObject({ active: true, aud: JWT });
  });

  it('verifies for a kit server in introspection mode (which sends every token there)', async () => {
    const kit = kitFor(JWT, { introspection: { ...introspector, cacheTtlSeconds: 0 } });
    const { access_token } = await tokensFor(JWT);
    await expect(kit.verifyAccessToken(access_token)).resolves.toMatchObject({ clientId, scopes: ['notes:read'] });
    const other = await tokensFor(OTHER);
    await expect(kit.verifyAccessToken(other.access_token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('bound to a DPoP key (cnf.jkt) is reported as DPoP, and refused 401 invalid_token as a plain bearer token by both kit modes', async () => {
    const { access_token } = await dpopBoundTokens();
    const jkt = (payloadOf(access_token).cnf as { jkt?: string } | undefined)?.jkt;
    expect(jkt).toEqual(expect.any(String));
    expect((await introspect(access_token)).body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });
    // Both kit modes see the binding (cnf.jkt; token_type DPoP from introspection) and refuse the Bearer scheme.
    const kits = [[kitFor(JWT), 'the token is sender-constrained'],
      [kitFor(JWT, { introspection: { ...introspector, cacheTtlSeconds: 0 } }), 'the token is sender-constrained']] as const;
    for (const [kit, message] of kits) {
      const error = await kit.authenticate({ authorization: `Bearer ${access_token}` }).then(() => undefined, (caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'invalid_token', message });
      expect(kit.challenge(error).status).toBe(401);
    }
  });

  it('with a wrong client secret is refused 401 invalid_client, as for any token', async () => {
    const { access_token } = await tokensFor(JWT);
    const response = await introspect(access_token, introspector, 'not-the-secret');
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(JSON.stringify(response.body)).not.toContain(JWT);
  });
});

describe('a public client at the introspection endpoint (RFC 7662 §2.1: authentication required)', () => {
  it('is refused 401 invalid_client for its own live refresh token, for garbage and for a JWT alike', async () => {
    const { access_token, refresh_token } = await tokensFor(OPAQUE);
    const jwt = (await tokensFor(JWT)).access_token;
    const answers = [];
    for (const token of [refresh_token, access_token, jwt, 'no-such-token']) {
      const response = await app.http().post('/token/introspection').type('form').send({ client_id: clientId, token });
      answers.push({ status: response.status, body: response.body as unknown });
    }
    // The same answer whatever the token: nothing to learn from probing a copied one.
    for (const answer of answers) {
      expect(answer).toEqual({ status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } });
    }
    // The refresh token itself still works for its client: it was only not disclosed.
    const refreshed = await app.http().post('/token').type('form').send({ grant_type: 'refresh_token', client_id: clientId, refresh_token });
    expect(refreshed.status, refreshed.text).toBe(200);
  });
});
