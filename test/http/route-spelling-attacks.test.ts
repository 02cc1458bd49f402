// What an attacker tried by spelling a path differently from the rule that guards it (letter case, a trailing
// slash): self-registration outside its policy, RFC 7592 update, deletion that leaves tokens, forms without CSRF, token limits.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { authorizeQuery, exchangeCode, follow, obtainCode, pkcePair, registerClient, REDIRECT_URI } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, PASSWORD, type TestApp } from '../helpers/test-app.ts';

const NOTES = notesResource().uri;
const HOSTILE_METADATA: Array<[string, Record<string, unknown>]> = [
  ['operator label', { portcullis_source: 'operator' }],
  ['introspection binding', { portcullis_introspects: NOTES }],
  ['confidential, without the initial access token', { token_endpoint_auth_method: 'client_secret_basic' }],
  ['a redirect URI the rules refuse', { redirect_uris: ['http://evil.example/cb'], application_type: 'web' }],
];
const registration = (extra: Record<string, unknown>) =>
  ({ client_name: 'Sneaky', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', ...extra });

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource());
}, 60_000);
afterAll(async () => app?.close());

const clientCount = async () => (await app.db.query(`SELECT 1 FROM oidc_models WHERE model = 'Client'`)).rowCount;
const storedClient = async (clientId: string) => (await app.db.query<{ payload: Record<string, unknown> }>(
  `SELECT payload FROM oidc_models WHERE model = 'Client' AND id = $1`, [clientId])).rows[0]?.payload;
/** Every stored grant, code and token of a client (and the client itself, and its registration access token). */
const rowsOf = async (clientId: string) => (await app.db.query<{ model: string }>(
  `SELECT model FROM oidc_models WHERE payload->>'clientId' = $1 OR (model = 'Client' AND id = $1) ORDER BY model`, [clientId])).rows.map((row) => row.model);

describe('self-registration at another spelling of /reg', () => {
  it.each(HOSTILE_METADATA)('%s: 404 at /REG, /reg/, /Reg and //reg, nothing stored; /reg applies the policy', async (_, hostile) => {
    const before = await clientCount();
    for (const path of ['/REG', '/reg/', '/Reg', '//reg']) {
      const response = await app.http().post(path).send(registration(hostile));
      expect(response.status, path).toBe(404);
    }
    expect(await clientCount()).toBe(before);
    const canonical = await app.http().post('/reg').send(registration(hostile));
    if (canonical.status === 201) {
      // Accepted only as what it is: a self-registered public client, its claimed label dropped.
      const stored = await storedClient(canonical.body.client_id as string);
      expect(stored).toMatchObject({ portcullis_source: 'dynamic_registration', token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT_URI] });
      expect(stored?.portcullis_introspects).toBeUndefined();
    } else {
      expect(canonical.status).toBe(400);
      expect(canonical.body.error).toMatch(/^invalid_(client_metadata|redirect_uri)$/);
    }
  });
});

describe('RFC 7592 update at another spelling', () => {
  it('is 404 at /REG/<id>, /reg/<id>/ and /Reg/<id>, 403 at /reg/<id>, and oidc-provider alone refuses it too', async () => {
    const registered = await registerClient(app) as { client_id: string; registration_access_token: string };
    const before = await storedClient(registered.client_id);
    const update = {
      client_id: registered.client_id, redirect_uris: ['http://evil.example/cb'], token_endpoint_auth_method: 'client_secret_basic',
      portcullis_source: 'operator', portcullis_introspects: NOTES,
    };
    const put = (path: string) => app.http().put(path).set('Authorization', `Bearer ${registered.registration_access_token}`).send(update);
    for (const path of [`/REG/${registered.client_id}`, `/reg/${registered.client_id}/`, `/Reg/${registered.client_id}`]) {
      expect((await put(path)).status, path).toBe(404);
    }
    const canonical = await put(`/reg/${registered.client_id}`);
    expect(canonical.status).toBe(403);
    expect(canonical.body.error).toBe('invalid_request');
    // Straight to oidc-provider's own koa app, past every middleware of ours: the rule lives in the route.
    const unguarded = await request(app.provider.callback()).put(`/reg/${registered.client_id}`).set('Host', new URL(ISSUER).host)
      .set('Authorization', `Bearer ${registered.registration_access_token}`).send(update);
    expect(unguarded.status).toBe(403);
    expect(unguarded.body.error).toBe('invalid_request');
    expect(await storedClient(registered.client_id)).toEqual(before);
    expect(before).toMatchObject({ portcullis_source: 'dynamic_registration', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
  });
});

describe('RFC 7592 delete', () => {
  it('is 404 at other spellings (the client keeps working); at /reg/<id> it ends every grant, code and token, audited under the real id', async () => {
    const registered = await registerClient(app) as { client_id: string; registration_access_token: string };
    const clientId = registered.client_id;
    const user = await app.addUser();
    const browser = app.browser();
    const first = await obtainCode(app, browser, user.email, { clientId, resource: NOTES, scope: 'notes:read' });
    const tokens = await exchangeCode(app, { client_id: clientId, code: first.code!, code_verifier: first.verifier, resource: NOTES });
    expect(tokens.status, tokens.text).toBe(200);
    // A second authorization whose code is never redeemed: a pending code must go too.
    const pending = await obtainCode(app, browser, user.email, { clientId, resource: NOTES, scope: 'notes:read' });
    expect(pending.code).toBeTruthy();
    const before = await rowsOf(clientId);
    // (Access tokens for a resource are JWTs: no row to count.)
    expect(before).toEqual(expect.arrayContaining(['AuthorizationCode', 'Client', 'Grant', 'RefreshToken', 'RegistrationAccessToken']));

    const del = (path: string) => app.http().delete(path).set('Authorization', `Bearer ${registered.registration_access_token}`);
    const encodedFirst = `%${clientId.charCodeAt(0).toString(16).toUpperCase()}${clientId.slice(1)}`;
    for (const path of [`/Reg/${clientId}`, `/REG/${clientId}`, `/reg/${clientId}/`, `//reg/${clientId}`, `/reg/${encodedFirst}`]) {
      expect((await del(path)).status, path).toBe(404);
    }
    expect(await rowsOf(clientId)).toEqual(before);

    expect((await del(`/reg/${clientId}`)).status).toBe(204);
    expect(await rowsOf(clientId)).toEqual([]);
    const audited = (await listAuditEvents(app.db, { type: 'client.deleted' })).filter((event) => event.client_id === clientId);
    expect(audited.map((event) => event.details)).toEqual([{ actor: 'client', grants_revoked: expect.any(Number) }]);
  });
});

describe('our forms at another spelling', () => {
  const startInteraction = async () => {
    const client = await registerClient(app);
    const browser = app.browser();
    const page = await follow(browser, authorizeQuery({ clientId: client.client_id, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    return { browser, path: new URL(page.request.url).pathname };
  };
  const signIns = async () => (await app.db.query("SELECT 1 FROM audit_events WHERE event_type = 'login.succeeded'")).rowCount;

  it('a sign-in POST without the anti-forgery token at /Interaction/<uid>/login is 404, and no one is signed in', async () => {
    const { email } = await app.addUser();
    const { browser, path } = await startInteraction();
    const before = await signIns();
    const upper = path.replace('/interaction/', '/Interaction/');
    for (const [spelled, origin] of [[`${upper}/login`, undefined], [`${upper}/login`, 'https://evil.example'], [`${path.replace('/interaction/', '/INTERACTION/')}/login`, undefined]] as const) {
      const attempt = browser.post(spelled).type('form');
      const response = await (origin ? attempt.set('Origin', origin) : attempt).send({ email, password: PASSWORD });
      expect(response.status, spelled).toBe(404);
    }
    expect(await signIns()).toBe(before);
    expect((await browser.get(path)).text).toContain('name="password"');
  });

  it('a sign-in POST without the token at /ACCOUNT/login or /Admin/login is 404; GET /ACCOUNT is sent to /account', async () => {
    const { email } = await app.addUser();
    const before = await signIns();
    for (const path of ['/ACCOUNT/login', '/account/login/', '/Admin/login', '/admin/login/']) {
      const response = await app.browser().post(path).type('form').send({ email, password: PASSWORD });
      expect(response.status, path).toBe(404);
    }
    expect(await signIns()).toBe(before);
    const page = await app.browser().get('/ACCOUNT?from=x');
    expect(page.status).toBe(308);
    expect(page.headers.location).toBe('/account?from=x');
  });
});

describe('the token endpoint limit at another spelling', () => {
  let limited: TestApp;
  beforeAll(async () => { limited = await createTestApp({ TOKEN_RATE_MAX_PER_IP: '2' }); }, 60_000);
  afterAll(async () => limited?.close());

  it('once /token is limited, /TOKEN, /token/ and /Token do not reach the token endpoint either', async () => {
    const post = (path: string) => limited.http().post(path).type('form').send({ grant_type: 'client_credentials', client_id: 'nobody' });
    for (let i = 0; i < 2; i += 1) expect((await post('/token')).status).not.toBe(429);
    expect((await post('/token')).status).toBe(429);
    for (const path of ['/TOKEN', '/token/', '/Token']) {
      const response = await post(path);
      expect(response.status, path).toBe(404);
      expect(response.body.error).toBeUndefined();
    }
  });
});
