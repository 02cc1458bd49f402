// Opaque access tokens and the introspection client: a resource registered with the opaque format gets
// tokens an MCP server can check at /token/introspection, which stop being active once the grant goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addIntrospectionClient } from '../../src/clients/store.ts';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const OPAQUE = 'https://opaque.example.com/mcp';
const JWT = 'https://jwt.example.com/mcp';
const OTHER_OPAQUE = 'https://other-opaque.example.com/mcp';

let app: TestApp;
let email: string;
let clientId: string;
let introspector: { clientId: string; clientSecret: string };

beforeAll(async () => {
  app = await createTestApp();
  email = (await app.addUser()).email;
  await app.addResource({ ...notesResource(OPAQUE), accessTokenFormat: 'opaque' });
  await app.addResource(notesResource(JWT));
  await app.addResource({ ...notesResource(OTHER_OPAQUE), accessTokenFormat: 'opaque' });
  clientId = (await registerClient(app)).client_id;
  introspector = await addIntrospectionClient(app.db, { name: 'Notes MCP server', resource: OPAQUE });
});
afterAll(async () => { await app.close(); });

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function introspect(token: string, secret = introspector.clientSecret) {
  return app.http().post('/token/introspection').set('Authorization', basic(introspector.clientId, secret))
    .type('form').send({ token });
}

async function tokensFor(resource: string, scope = 'notes:read') {
  const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource, scope });
  const response = await exchangeCode(app, { code: code ?? '', code_verifier: verifier, client_id: clientId, resource });
  expect(response.status, response.text).toBe(200);
  return response.body as { access_token: string; refresh_token: string; token_type: string };
}

describe('opaque access tokens', () => {
  it('the discovery document names the introspection endpoint this test calls', async () => {
    const discovery = await app.http().get('/.well-known/oauth-authorization-server');
    expect(discovery.body.introspection_endpoint).toBe('http://localhost:4000/token/introspection');
  });

  it('are issued for a resource registered as opaque, and introspect as active with audience and scope', async () => {
    const tokens = await tokensFor(OPAQUE);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const response = await introspect(tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      active: true, aud: OPAQUE, scope: 'notes:read', client_id: clientId, iss: 'http://localhost:4000',
      token_type: 'Bearer', sub: expect.any(String),
    });
    expect(response.body.exp).toBeGreaterThan(Math.floor(Date.now() / 1000));
  });

  it('turn inactive once their grant is revoked', async () => {
    const tokens = await tokensFor(OPAQUE);
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
    const accessToken = await app.provider.AccessToken.find(tokens.access_token);
    const grantId = accessToken?.grantId ?? '';
    const grant = await app.provider.Grant.find(grantId);
    await grant?.destroy();
    await app.provider.AccessToken.adapter.revokeByGrantId(grantId);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    // The grant alone going is enough: a token whose row survived is still refused (no Grant).
    expect((await introspect(tokens.refresh_token)).body).toEqual({ active: false });
  });

  it('a JWT resource keeps getting JWTs, which another resource’s introspection client sees as inactive', async () => {
    const tokens = await tokensFor(JWT);
    expect(tokens.access_token.split('.')).toHaveLength(3);
    const response = await introspect(tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ active: false });
  });
});

describe('introspection client', () => {
  it('is refused with a wrong secret (401 invalid_client) and learns nothing about the token', async () => {
    const tokens = await tokensFor(OPAQUE);
    const response = await introspect(tokens.access_token, 'not-the-secret');
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(JSON.stringify(response.body)).not.toContain(OPAQUE);
  });

  it('says an unknown or garbage token is inactive', async () => {
    expect((await introspect('no-such-token')).body).toEqual({ active: false });
  });

  it('cannot start an authorization (no redirect URIs, no grant types)', async () => {
    const response = await app.http().get('/auth').query({
      response_type: 'code', client_id: introspector.clientId, redirect_uri: 'http://127.0.0.1:33418/callback',
      code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', resource: OPAQUE, scope: 'notes:read',
    });
    // oidc-provider renders its error page rather than redirecting to an unregistered URI.
    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
  });

  it('cannot obtain tokens at the token endpoint (grant type not allowed for this client)', async () => {
    const response = await app.http().post('/token').set('Authorization', basic(introspector.clientId, introspector.clientSecret))
      .type('form').send({ grant_type: 'refresh_token', refresh_token: 'whatever' });
    expect(response.status).toBe(400);
    // RFC 6749 §5.2 (src/oidc/grant-type-refusal.ts); oidc-provider itself says invalid_request.
    expect(response.body).toMatchObject({ error: 'unauthorized_client', error_description: 'requested grant type is not allowed for this client' });
  });
});

describe('who may introspect what', () => {
  it('an introspection client sees only access tokens of its own resource: not another resource’s, not refresh tokens', async () => {
    const other = await tokensFor(OTHER_OPAQUE);
    expect(other.access_token.split('.')).toHaveLength(1);
    expect((await introspect(other.access_token)).body).toEqual({ active: false });
    const own = await tokensFor(OPAQUE);
    expect((await introspect(own.access_token)).body.active).toBe(true);
    expect((await introspect(own.refresh_token)).body).toEqual({ active: false });
  });

  it('a public client may not introspect, not even its own tokens (401 invalid_client, RFC 7662 §2.1)', async () => {
    const tokens = await tokensFor(OPAQUE);
    const asOwner = await app.http().post('/token/introspection').type('form').send({ client_id: clientId, token: tokens.refresh_token });
    expect(asOwner.status).toBe(401);
    expect(asOwner.body.error).toBe('invalid_client');
    const stranger = (await registerClient(app)).client_id;
    const asStranger = await app.http().post('/token/introspection').type('form').send({ client_id: stranger, token: tokens.refresh_token });
    expect(asStranger.status).toBe(401);
    expect(asStranger.body).not.toHaveProperty('active');
  });

  it('self-registration cannot bind a client to a resource', async () => {
    const response = await app.http().post('/reg').send({
      client_name: 'Sneaky', redirect_uris: ['http://127.0.0.1:1234/cb'], token_endpoint_auth_method: 'none',
      portcullis_introspects: OPAQUE,
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
  });
});
