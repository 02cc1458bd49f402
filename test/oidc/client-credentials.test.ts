// The client_credentials grant at the token endpoint (MCP ext-auth SEP-1046), as a client or an attacker
// sees it: only operator-registered machine clients get tokens, for their one resource and allowed scopes,
// audited as the client's own; every other client, resource, scope and self-registration is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { registerClient as registerOperatorClient, removeClient, setClientEnabled } from '../../src/clients/service.ts';
import { setResourceEnabled, updateResource, resourceServiceDeps } from '../../src/resources/service.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { registerClient as selfRegister } from '../helpers/oauth-flow.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
const LONG = 'https://long.example.com/mcp';
const OPAQUE = 'https://opaque.example.com/mcp';
const OTHER = 'https://other.example.com/mcp';
const INITIAL_ACCESS_TOKEN = 'i'.repeat(40);

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ RESOURCE_CACHE_SECONDS: '0', TOKEN_RATE_MAX_PER_CLIENT: '8', REGISTRATION_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
  await app.addResource(notesResource(NOTES));
  await app.addResource({ ...notesResource(LONG), accessTokenTtlSeconds: 3600 });
  await app.addResource({ ...notesResource(OPAQUE), accessTokenFormat: 'opaque' });
  await app.addResource(notesResource(OTHER));
});
afterAll(async () => { await app?.close(); });

const machine = async (resource = NOTES, scopes = ['notes:read', 'notes:write'], extra: Record<string, unknown> = {}) => {
  const client = await registerOperatorClient(app.db, { kind: 'machine', name: 'Agent', resource, scopes, ...extra }, CLI_OPERATOR);
  return { clientId: client.clientId, clientSecret: client.clientSecret! };
};

const token = (client: { clientId: string; clientSecret: string }, form: Record<string, string | string[]> = {}) =>
  app.http().post('/token').type('form').auth(client.clientId, client.clientSecret).send({ grant_type: 'client_credentials', resource: NOTES, ...form });

describe('client_credentials for machine clients', () => {
  it('issues a JWT for the bound resource that names the client as its subject, with no refresh token', async () => {
    const client = await machine();
    const response = await token(client, { scope: 'notes:read' });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'notes:read', expires_in: 300 });
    expect(response.body.refresh_token).toBeUndefined();
    const claims = decodeJwt(response.body.access_token);
    expect(claims).toMatchObject({ aud: NOTES, client_id: client.clientId, sub: client.clientId, scope: 'notes:read' });
  });

  it('records token.issued as the client\'s, with the resource and no person', async () => {
    const client = await machine();
    expect((await token(client, { scope: 'notes:write' })).status).toBe(200);
    await flushAuditWrites();
    const { rows } = await app.db.query<Record<string, unknown>>(
      `SELECT actor_type, actor_id, account_id, resource, scopes, details FROM audit_events WHERE event_type = 'token.issued' AND client_id = $1`, [client.clientId]);
    expect(rows).toEqual([{
      actor_type: 'client', actor_id: client.clientId, account_id: null, resource: NOTES, scopes: 'notes:write',
      details: { grant_type: 'client_credentials', acts_for: 'client', person: null },
    }]);
  });

  it('an omitted resource means the bound one; an omitted scope the allowed reversible ones', async () => {
    const client = await machine(NOTES, ['notes:read', 'notes:write', 'notes:delete'], { allowIrreversible: true });
    const response = await app.http().post('/token').type('form').auth(client.clientId, client.clientSecret).send({ grant_type: 'client_credentials' });
    expect(response.status, response.text).toBe(200);
    expect(response.body.scope).toBe('notes:read notes:write');
    expect(decodeJwt(response.body.access_token).aud).toBe(NOTES);
  });

  it('lives as long as its resource says, and five minutes at most with an irreversible scope allowed for the client', async () => {
    const client = await machine(LONG, ['notes:read', 'notes:delete'], { allowIrreversible: true });
    const plain = await token(client, { resource: LONG, scope: 'notes:read' });
    expect(plain.body.expires_in).toBe(3600);
    const irreversible = await token(client, { resource: LONG, scope: 'notes:delete' });
    expect(irreversible.status, irreversible.text).toBe(200);
    expect(irreversible.body).toMatchObject({ scope: 'notes:delete', expires_in: 300 });
  });

  it('refuses another resource, several resources and an unknown one (invalid_target)', async () => {
    const client = await machine();
    for (const resource of [OTHER, [NOTES, OTHER], 'https://unknown.example.com/mcp']) {
      const response = await token(client, { resource });
      expect(response.status, String(resource)).toBe(400);
      expect(response.body.error).toBe('invalid_target');
    }
    // The bound resource is matched leniently on case and a trailing slash, like every resource indicator.
    expect((await token(client, { resource: 'HTTPS://MCP.example.com/mcp/' })).status).toBe(200);
  });

  it('refuses scopes beyond the allowed ones, undeclared ones and openid (invalid_scope)', async () => {
    const client = await machine(NOTES, ['notes:read']);
    for (const scope of ['notes:write', 'notes:read notes:write', 'made:up', 'openid', 'offline_access']) {
      const response = await token(client, { scope });
      expect(response.status, scope).toBe(400);
      expect(response.body.error, scope).toBe('invalid_scope');
    }
  });

  it('never grants an irreversible scope unless the operator allowed it for the client', async () => {
    await expect(machine(NOTES, ['notes:read', 'notes:delete'])).rejects.toMatchObject({ code: 'invalid_request' });
    const client = await machine(NOTES, ['notes:read', 'notes:write']);
    const response = await token(client, { scope: 'notes:delete' });
    expect(response.body).toMatchObject({ error: 'invalid_scope', error_description: 'scope notes:delete is irreversible and not allowed for this client' });
    // A scope that becomes irreversible after registration is no longer granted.
    const deps = resourceServiceDeps(app.db, app.config);
    const other = await machine(OTHER, ['notes:read', 'notes:write']);
    await updateResource(deps, OTHER, { ...notesResource(OTHER), scopes: [
      { scope: 'notes:read', risk: 'read' }, { scope: 'notes:write', risk: 'irreversible' }] }, CLI_OPERATOR, { check: false });
    expect((await token(other, { resource: OTHER, scope: 'notes:write' })).body.error).toBe('invalid_scope');
    expect((await token(other, { resource: OTHER })).body.scope).toBe('notes:read');
    await updateResource(deps, OTHER, notesResource(OTHER), CLI_OPERATOR, { check: false });
  });

  it('refuses a disabled client (invalid_client) and a disabled resource (invalid_target)', async () => {
    const client = await machine();
    await setClientEnabled(app.db, client.clientId, false, CLI_OPERATOR);
    const disabled = await token(client);
    expect(disabled.status).toBe(401);
    expect(disabled.body.error).toBe('invalid_client');
    await setClientEnabled(app.db, client.clientId, true, CLI_OPERATOR);
    expect((await token(client)).status).toBe(200);

    const other = await machine(OTHER, ['notes:read']);
    await setResourceEnabled(app.db, OTHER, false, CLI_OPERATOR);
    const refused = await token(other, { resource: OTHER });
    expect(refused.body.error).toBe('invalid_target');
    await setResourceEnabled(app.db, OTHER, true, CLI_OPERATOR);
  });

  it('a resource open only to listed clients refuses a machine client it does not list (invalid_target)', async () => {
    const client = await machine(OTHER, ['notes:read']);
    const deps = resourceServiceDeps(app.db, app.config);
    await updateResource(deps, OTHER, { ...notesResource(OTHER), allowedClientIds: ['someone-else'] }, CLI_OPERATOR, { check: false });
    expect((await token(client, { resource: OTHER })).body.error).toBe('invalid_target');
    await updateResource(deps, OTHER, { ...notesResource(OTHER), allowedClientIds: [client.clientId] }, CLI_OPERATOR, { check: false });
    expect((await token(client, { resource: OTHER })).status).toBe(200);
    await updateResource(deps, OTHER, notesResource(OTHER), CLI_OPERATOR, { check: false });
  });

  it('a deleted client is unknown, and its binding is gone', async () => {
    const client = await machine();
    await removeClient(app.db, client.clientId, CLI_OPERATOR);
    expect((await token(client)).body.error).toBe('invalid_client');
    const { rowCount } = await app.db.query('SELECT 1 FROM machine_clients WHERE client_id = $1', [client.clientId]);
    expect(rowCount).toBe(0);
  });

  it('a wrong secret is invalid_client; the secret may also come in the body, as in the extension\'s example', async () => {
    const client = await machine();
    const wrong = await token({ ...client, clientSecret: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const response = await app.http().post('/token').type('form')
      .send({ grant_type: 'client_credentials', resource: NOTES, client_id: client.clientId, client_secret: client.clientSecret });
    expect(response.status, response.text).toBe(200);
  });

  it('an opaque resource gets an opaque token its introspection client sees as active, with no person', async () => {
    const client = await machine(OPAQUE, ['notes:read']);
    const response = await token(client, { resource: OPAQUE });
    expect(response.status, response.text).toBe(200);
    expect(response.body.access_token.split('.')).toHaveLength(1);
    const introspector = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Opaque MCP', resource: OPAQUE }, CLI_OPERATOR);
    const answer = await app.http().post('/token/introspection').auth(introspector.clientId, introspector.clientSecret!)
      .type('form').send({ token: response.body.access_token });
    expect(answer.body).toMatchObject({ active: true, aud: OPAQUE, client_id: client.clientId, scope: 'notes:read' });
    expect(answer.body.sub).toBeUndefined();
  });

  it('counts against the per-client token budget like every token request', async () => {
    const client = await machine();
    const statuses: number[] = [];
    for (let i = 0; i < 9; i += 1) statuses.push((await token(client)).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(200));
    expect(statuses[8]).toBe(429);
  });
});

describe('the grant for every other client', () => {
  it('an ordinary confidential, an introspection and a self-registered public client get unauthorized_client', async () => {
    const confidential = await registerOperatorClient(app.db, { kind: 'confidential', name: 'Web app', redirectUris: ['https://app.example.com/cb'] }, CLI_OPERATOR);
    const introspection = await registerOperatorClient(app.db, { kind: 'introspection', name: 'MCP server', resource: NOTES }, CLI_OPERATOR);
    for (const client of [confidential, introspection]) {
      const response = await token({ clientId: client.clientId, clientSecret: client.clientSecret! });
      expect(response.status, response.text).toBe(400);
      expect(response.body.error, response.text).toBe('unauthorized_client');
    }
    const { client_id: publicId } = await selfRegister(app);
    const response = await app.http().post('/token').type('form').send({ grant_type: 'client_credentials', resource: NOTES, client_id: publicId });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('unauthorized_client');
  });

  it('self-registration asking for client_credentials is refused, with or without the initial access token, and stores nothing', async () => {
    const before = await app.db.query(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Client'`);
    const body = { client_name: 'Sneaky', redirect_uris: [], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic' };
    for (const registration of [
      app.http().post('/reg').send(body),
      app.http().post('/reg').set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`).send(body),
      app.http().post('/reg').send({ ...body, grant_types: ['authorization_code', 'client_credentials'], redirect_uris: ['http://127.0.0.1/cb'], response_types: ['code'], token_endpoint_auth_method: 'none' }),
    ]) {
      const response = await registration;
      expect(response.status, response.text).toBe(400);
      expect(response.body.error).toBe('invalid_client_metadata');
    }
    const after = await app.db.query(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Client'`);
    expect(after.rows).toEqual(before.rows);
  });
});
