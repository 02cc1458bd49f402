// RFC 7592 read and delete with the registration access token, no update; and what a client that is
// gone (deleted by itself, or expired unused) sees: invalid_client (401) and an error page, never a redirect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { purgeUnusedRegistrations } from '../../src/clients/expiry.ts';
import { addOperatorClient } from '../../src/clients/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { authorizeQuery, exchangeCode, obtainCode, pkcePair, refresh, registerClient, REDIRECT_URI } from '../helpers/oauth-flow.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const TOKEN = 'an-initial-access-token-of-40-characters!';
const RESOURCE = notesResource().uri;
let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ REGISTRATION_INITIAL_ACCESS_TOKEN: TOKEN });
  await app.addResource(notesResource());
});
afterAll(async () => app?.close());

type Registered = { client_id: string; registration_access_token: string; registration_client_uri: string };
const pathOf = (uri: string) => new URL(uri).pathname;

/** A registered client with a signed-in user's grant: its refresh token in hand. */
async function clientWithGrant(): Promise<{ registered: Registered; refreshToken: string }> {
  const registered = await registerClient(app) as Registered;
  const user = await app.addUser();
  const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: registered.client_id, resource: RESOURCE, scope: 'notes:read' });
  const tokens = await exchangeCode(app, { client_id: registered.client_id, code: code!, code_verifier: verifier, resource: RESOURCE });
  expect(tokens.status, tokens.text).toBe(200);
  return { registered, refreshToken: tokens.body.refresh_token as string };
}

const grantRows = async (clientId: string) => (await app.db.query(
  `SELECT 1 FROM oidc_models WHERE (model = 'Grant' AND payload->>'clientId' = $1)
     OR grant_id IN (SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1)
     OR (model = 'RefreshToken' AND payload->>'clientId' = $1)`, [clientId])).rowCount;

/** The authorization endpoint for a client that is gone: an error page here, no redirect to the client. */
async function expectAuthorizeErrorPage(clientId: string) {
  const response = await app.browser().get(authorizeQuery({ clientId, state: 's', resource: RESOURCE, codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  expect(response.status).toBe(400);
  expect(response.headers.location).toBeUndefined();
  expect(response.text).toContain('invalid_client');
}

describe('RFC 7592 client read', () => {
  it('registration returns a registration access token and URI; GET with it returns the metadata', async () => {
    const registered = await registerClient(app) as Registered;
    expect(registered.registration_access_token).toEqual(expect.any(String));
    const response = await app.http().get(pathOf(registered.registration_client_uri)).set('Authorization', `Bearer ${registered.registration_access_token}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ client_id: registered.client_id, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
  });

  it('refuses a missing or wrong token, and another client\'s token', async () => {
    const mine = await registerClient(app) as Registered;
    const theirs = await registerClient(app) as Registered;
    const uri = pathOf(mine.registration_client_uri);
    expect((await app.http().get(uri)).status).toBe(401);
    const wrong = await app.http().get(uri).set('Authorization', `Bearer ${mine.registration_access_token}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_token');
    const crossed = await app.http().get(uri).set('Authorization', `Bearer ${theirs.registration_access_token}`);
    expect(crossed.status).toBe(401);
    expect(JSON.stringify(crossed.body)).not.toContain(mine.client_id);
  });

  it('never returns a confidential client\'s secret (or its digest) after registration', async () => {
    const created = await app.http().post('/reg').set('Authorization', `Bearer ${TOKEN}`)
      .send({ client_name: 'Web', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    expect(created.status).toBe(201);
    const read = await app.http().get(pathOf(created.body.registration_client_uri as string))
      .set('Authorization', `Bearer ${created.body.registration_access_token as string}`);
    expect(read.status).toBe(200);
    expect(read.body.client_secret).toBeUndefined();
    expect(JSON.stringify(read.body)).not.toContain('sha256:');
  });
});

describe('RFC 7592 client update', () => {
  it('is refused (403): the metadata stays as registered', async () => {
    const registered = await registerClient(app) as Registered;
    const response = await app.http().put(pathOf(registered.registration_client_uri))
      .set('Authorization', `Bearer ${registered.registration_access_token}`)
      .send({ client_id: registered.client_id, redirect_uris: ['http://evil.example/cb'], token_endpoint_auth_method: 'none' });
    expect(response.status).toBe(403);
    expect(response.body.error).toBe('invalid_request');
    const { rows } = await app.db.query<{ payload: { redirect_uris: string[] } }>(
      `SELECT payload FROM oidc_models WHERE model = 'Client' AND id = $1`, [registered.client_id]);
    expect(rows[0]!.payload.redirect_uris).toEqual([REDIRECT_URI]);
  });
});

describe('RFC 7592 client delete', () => {
  it('deletes the client and its grants; then the token endpoint answers invalid_client (401) and /auth an error page', async () => {
    const { registered, refreshToken } = await clientWithGrant();
    expect(await grantRows(registered.client_id)).toBeGreaterThan(0);
    const deleted = await app.http().delete(pathOf(registered.registration_client_uri)).set('Authorization', `Bearer ${registered.registration_access_token}`);
    expect(deleted.status).toBe(204);

    const token = await refresh(app, { client_id: registered.client_id, refresh_token: refreshToken });
    expect(token.status).toBe(401);
    expect(token.body.error).toBe('invalid_client');
    await expectAuthorizeErrorPage(registered.client_id);
    expect(await grantRows(registered.client_id)).toBe(0);
    // The registration access token went with it: the client cannot read or delete itself again.
    const again = await app.http().get(pathOf(registered.registration_client_uri)).set('Authorization', `Bearer ${registered.registration_access_token}`);
    expect(again.status).toBe(401);
    const events = await listAuditEvents(app.db, { type: 'client.deleted' });
    expect(events.find((e) => e.client_id === registered.client_id)?.details).toEqual({ actor: 'client', grants_revoked: 1 });
  });
});

describe('unused self-registered clients expire', () => {
  const TTL = 3600;
  const afterTtl = () => new Date(Date.now() + (TTL + 5) * 1000);

  it('deletes a client never issued a token; its pending code then meets invalid_client', async () => {
    const unused = await registerClient(app);
    const user = await app.addUser();
    const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: unused.client_id, resource: RESOURCE, scope: 'notes:read' });
    expect(await purgeUnusedRegistrations(app.db, TTL)).toBe(0);

    expect(await purgeUnusedRegistrations(app.db, TTL, afterTtl())).toBeGreaterThanOrEqual(1);
    const exchange = await exchangeCode(app, { client_id: unused.client_id, code: code!, code_verifier: verifier, resource: RESOURCE });
    expect(exchange.status).toBe(401);
    expect(exchange.body.error).toBe('invalid_client');
    await expectAuthorizeErrorPage(unused.client_id);
    expect(await grantRows(unused.client_id)).toBe(0);
  });

  it('keeps a client that obtained a token, and operator-registered clients', async () => {
    const { registered, refreshToken } = await clientWithGrant();
    const operator = await addOperatorClient(app.db, { name: 'Operator', redirectUris: [REDIRECT_URI] });
    await flushAuditWrites();
    await purgeUnusedRegistrations(app.db, TTL, afterTtl());
    const token = await refresh(app, { client_id: registered.client_id, refresh_token: refreshToken, resource: RESOURCE });
    expect(token.status, token.text).toBe(200);
    const { rowCount } = await app.db.query(`SELECT 1 FROM oidc_models WHERE model = 'Client' AND id = $1`, [operator.clientId]);
    expect(rowCount).toBe(1);
  });
});
