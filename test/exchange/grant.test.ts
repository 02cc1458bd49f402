// The RFC 8693 token-exchange grant at /token, through supertest: an MCP server's own client trades the
// person's token (audience A) for one to B on an allowed chain; every refusal with its OAuth error and audit row.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { registerClient as registerOperatorClient } from '../../src/clients/service.ts';
import { allowExchange } from '../../src/exchange/service.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/exchange/schema.ts';
import { setAccountDisabled } from '../../src/accounts/store.ts';
import { revokeGrantOfAccount } from '../../src/grants/service.ts';
import { approvedAccessToken } from '../examples/mcp-http.ts';
import { registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const A = 'https://notes.example.com/mcp';
const B = 'https://calendar.example.com/api';
const C = 'https://mail.example.com/api';
let app: TestApp;
let email: string;
let mcpClientId: string;
let server: { clientId: string; clientSecret: string };
let other: { clientId: string; clientSecret: string };

beforeAll(async () => {
  app = await createTestApp({ RESOURCE_CACHE_SECONDS: '0' });
  await app.addResource(notesResource(A));
  await app.addResource({ uri: B, name: 'Calendar', accessTokenTtlSeconds: 300, scopes: [
    { scope: 'calendar:read', risk: 'read', description: 'Read your calendar' },
    { scope: 'calendar:write', risk: 'write', description: 'Add events' },
    { scope: 'calendar:cancel', risk: 'irreversible', description: 'Cancel meetings' },
  ] });
  await app.addResource({ uri: C, name: 'Mail', scopes: [{ scope: 'mail:read', risk: 'read', description: 'Read mail' }] });
  await allowExchange(app.db, { from: A, to: B, scopes: ['calendar:read', 'calendar:write'] }, CLI_OPERATOR);
  email = (await app.addUser()).email;
  mcpClientId = (await registerClient(app)).client_id;
  const mcp = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Notes MCP server', resource: A }, CLI_OPERATOR);
  server = { clientId: mcp.clientId, clientSecret: mcp.clientSecret! };
  const foreign = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Mail server', resource: C }, CLI_OPERATOR);
  other = { clientId: foreign.clientId, clientSecret: foreign.clientSecret! };
});
afterAll(async () => { await app?.close(); });

const personToken = (scope = 'notes:read') => approvedAccessToken(app, { email, clientId: mcpClientId, resource: A, scope });

function exchange(fields: Record<string, string>, as: { clientId: string; clientSecret: string } = server) {
  return app.http().post('/token').type('form').auth(as.clientId, as.clientSecret)
    .send({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: ACCESS_TOKEN_TYPE, resource: B, ...fields });
}

async function lastRefusal() {
  const [event] = await listAuditEvents(app.db, { type: 'token.exchange_refused', limit: 1 });
  return event;
}

describe('token exchange: what the MCP server gets', () => {
  it('is advertised in grant_types_supported', async () => {
    const metadata = await app.http().get('/.well-known/oauth-authorization-server');
    expect(metadata.body.grant_types_supported).toContain(TOKEN_EXCHANGE_GRANT);
  });

  it('issues a token for exactly B, with the chain\'s scopes, act naming the MCP server, sub the person, audited', async () => {
    const subject = await personToken();
    const response = await exchange({ subject_token: subject });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'calendar:read calendar:write' });
    expect(response.body.refresh_token).toBeUndefined();
    const claims = decodeJwt(response.body.access_token as string);
    const original = decodeJwt(subject);
    expect(claims).toMatchObject({ aud: B, sub: original.sub, client_id: server.clientId, act: { sub: server.clientId }, scope: 'calendar:read calendar:write' });
    // No longer than B's lifetime (300 s), nor the subject token's remaining life.
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(claims.exp!).toBeLessThanOrEqual(original.exp!);
    expect(response.body.expires_in).toBeLessThanOrEqual(300);

    const [event] = await listAuditEvents(app.db, { type: 'token.exchanged', limit: 1 });
    expect(event).toMatchObject({ client_id: server.clientId, account_id: original.sub, resource: B, scopes: 'calendar:read calendar:write' });
    expect(event?.details).toMatchObject({ from: A, to: B, subject_client_id: mcpClientId });
  });

  it('accepts `audience` for `resource`, and narrows to the scopes asked', async () => {
    const response = await exchange({ subject_token: await personToken(), resource: '', audience: B, scope: 'calendar:read' });
    expect(response.status, response.text).toBe(200);
    expect(response.body.scope).toBe('calendar:read');
  });

  it('caps the lifetime at what the subject token has left', async () => {
    await app.db.query(`UPDATE resources SET access_token_ttl_seconds = 120 WHERE uri = $1`, [A]);
    try {
      const subject = decodeJwt(await personToken()).exp!;
      const response = await exchange({ subject_token: await personToken() });
      expect(response.status, response.text).toBe(200);
      expect(response.body.expires_in).toBeLessThanOrEqual(120);
      expect(decodeJwt(response.body.access_token as string).exp).toBeLessThanOrEqual(subject + 5);
    } finally {
      await app.db.query(`UPDATE resources SET access_token_ttl_seconds = 3600 WHERE uri = $1`, [A]);
    }
  });

  it('an exchanged token exchanged again (B → C) nests the first actor inside act (RFC 8693 §4.1)', async () => {
    const calendar = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Calendar API', resource: B }, CLI_OPERATOR);
    await allowExchange(app.db, { from: B, to: C, scopes: ['mail:read'] }, CLI_OPERATOR);
    const first = await exchange({ subject_token: await personToken() });
    const second = await exchange({ subject_token: first.body.access_token as string, resource: C }, { clientId: calendar.clientId, clientSecret: calendar.clientSecret! });
    expect(second.status, second.text).toBe(200);
    expect(decodeJwt(second.body.access_token as string)).toMatchObject({ aud: C, act: { sub: calendar.clientId, act: { sub: server.clientId } } });
  });

  it('revoking the person\'s grant refuses the exchange (invalid_grant)', async () => {
    const subject = await personToken();
    const ok = await exchange({ subject_token: subject });
    expect(ok.status).toBe(200);
    await app.db.query(`DELETE FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [mcpClientId]);
    const refused = await exchange({ subject_token: subject });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'grant_revoked' });
  });
});

describe('token exchange: refusals', () => {
  it('a subject token that is not ours, or a forgery, is invalid_grant', async () => {
    for (const token of ['not-a-token', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig']) {
      const response = await exchange({ subject_token: token });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_grant');
    }
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'unknown_token' });
  });

  it('a token for another audience than the caller\'s own resource is invalid_grant', async () => {
    const response = await exchange({ subject_token: await personToken() }, other);
    // The Mail server has no chain at all: refused as a client before its token is looked at.
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('unauthorized_client');
    await allowExchange(app.db, { from: C, to: B, scopes: ['calendar:read'] }, CLI_OPERATOR);
    const again = await exchange({ subject_token: await personToken() }, other);
    expect(again.body.error).toBe('invalid_grant');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'audience_mismatch', from: C });
  });

  it('a chain the operator did not allow is invalid_target', async () => {
    const response = await exchange({ subject_token: await personToken(), resource: C });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
    expect(await lastRefusal()).toMatchObject({ client_id: server.clientId, resource: C });
    const unknown = await exchange({ subject_token: await personToken(), resource: 'https://nowhere.example/api' });
    expect(unknown.body.error).toBe('invalid_target');
    const two = await exchange({ subject_token: await personToken(), audience: C });
    expect(two.body.error).toBe('invalid_target');
  });

  it('scopes beyond the chain, irreversible ones included, are invalid_scope', async () => {
    for (const scope of ['calendar:cancel', 'calendar:read mail:read', 'notes:read']) {
      const response = await exchange({ subject_token: await personToken(), scope });
      expect(response.status, scope).toBe(400);
      expect(response.body.error).toBe('invalid_scope');
    }
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'scope_beyond_chain' });
  });

  it('wrong or missing token types and parameters are invalid_request', async () => {
    const subject = await personToken();
    const cases: Record<string, string>[] = [
      { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      { subject_token: subject, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      { subject_token: subject, actor_token: subject, actor_token_type: ACCESS_TOKEN_TYPE },
      { subject_token: subject, resource: '' },
      { subject_token: '' },
    ];
    for (const fields of cases) {
      const response = await exchange(fields);
      expect(response.status, JSON.stringify(fields)).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    }
  });

  it('a client that is not an MCP server\'s own cannot use the grant; a wrong secret is invalid_client', async () => {
    const confidential = await registerOperatorClient(app.db, { kind: 'confidential', name: 'Web app', redirectUris: ['https://app.example/cb'] }, CLI_OPERATOR);
    const response = await exchange({ subject_token: await personToken() }, { clientId: confidential.clientId, clientSecret: confidential.clientSecret! });
    // oidc-provider's own check: the grant type is not among the client's (answered with RFC 6749's code
    // by grant-type-refusal.ts).
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('unauthorized_client');
    const publicClient = await app.http().post('/token').type('form')
      .send({ grant_type: TOKEN_EXCHANGE_GRANT, client_id: mcpClientId, subject_token: await personToken(), subject_token_type: ACCESS_TOKEN_TYPE, resource: B });
    expect(publicClient.status).toBe(400);
    expect(publicClient.body.error).toBe('unauthorized_client');
    const wrongSecret = await exchange({ subject_token: await personToken() }, { clientId: server.clientId, clientSecret: 'x'.repeat(43) });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe('invalid_client');
  });

  it('a disabled resource A refuses its client (unauthorized_client)', async () => {
    const subject = await personToken();
    await app.db.query('UPDATE resources SET disabled_at = now() WHERE uri = $1', [C]);
    const response = await exchange({ subject_token: subject }, other);
    expect(response.body.error).toBe('unauthorized_client');
    expect((await lastRefusal())?.details).toMatchObject({ reason: 'not_an_mcp_server' });
  });

  it('a disabled person\'s token is invalid_grant', async () => {
    const subject = await personToken();
    const { sub } = decodeJwt(subject);
    await setAccountDisabled(app.db, sub!, true);
    try {
      const response = await exchange({ subject_token: subject });
      expect(response.body.error).toBe('invalid_grant');
    } finally {
      await setAccountDisabled(app.db, sub!, false);
    }
  });

  it('absurd input is a 4xx, never a 500', async () => {
    const absurd: Record<string, string>[] = [{ subject_token: 'x'.repeat(20000) }, { subject_token: 'a.b.c', scope: 'calendar:read\u0001' }, { resource: 'x'.repeat(5000), subject_token: 'y' }];
    for (const fields of absurd) {
      const response = await exchange(fields);
      expect(response.status, JSON.stringify(response.body)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
  });
});

describe('token exchange with opaque tokens: the person\'s grant ends the exchanged tokens too', () => {
  const FILES = 'https://files.example.com/mcp';
  const STORAGE = 'https://storage.example.com/api';
  let files: { clientId: string; clientSecret: string };
  let storage: { clientId: string; clientSecret: string };
  beforeAll(async () => {
    await app.addResource({ uri: FILES, name: 'Files', accessTokenFormat: 'opaque', scopes: [{ scope: 'files:read', risk: 'read', description: 'Read files' }] });
    await app.addResource({ uri: STORAGE, name: 'Storage', accessTokenFormat: 'opaque', scopes: [{ scope: 'blobs:read', risk: 'read', description: 'Read blobs' }] });
    await allowExchange(app.db, { from: FILES, to: STORAGE, scopes: ['blobs:read'] }, CLI_OPERATOR);
    const f = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Files server', resource: FILES }, CLI_OPERATOR);
    const s = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Storage API', resource: STORAGE }, CLI_OPERATOR);
    files = { clientId: f.clientId, clientSecret: f.clientSecret! };
    storage = { clientId: s.clientId, clientSecret: s.clientSecret! };
  });
  const introspect = (token: string) => app.http().post('/token/introspection').type('form').auth(storage.clientId, storage.clientSecret).send({ token });

  it('exchanges an opaque subject token; the downstream sees act; revoking the grant makes the exchanged token inactive', async () => {
    const subject = await approvedAccessToken(app, { email, clientId: mcpClientId, resource: FILES, scope: 'files:read' });
    const response = await exchange({ subject_token: subject, resource: STORAGE }, files);
    expect(response.status, response.text).toBe(200);
    const exchanged = response.body.access_token as string;
    const live = await introspect(exchanged);
    expect(live.body).toMatchObject({ active: true, aud: STORAGE, act: { sub: files.clientId }, client_id: files.clientId, scope: 'blobs:read' });

    const grantId = (await app.provider.AccessToken.find(subject))!.grantId!;
    expect(await revokeGrantOfAccount(app.provider, app.db, live.body.sub as string, grantId)).toBe(true);
    expect((await introspect(exchanged)).body).toEqual({ active: false });
    expect((await exchange({ subject_token: subject, resource: STORAGE }, files)).body.error).toBe('invalid_grant');
  });

  it('the original token (audience FILES) is not active for the downstream API', async () => {
    const subject = await approvedAccessToken(app, { email, clientId: mcpClientId, resource: FILES, scope: 'files:read' });
    expect((await introspect(subject)).body).toEqual({ active: false });
  });
});
