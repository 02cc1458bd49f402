// What a client or a person sees from the input boundary (src/http/input-boundary.ts): the OAuth error
// each endpoint owes (RFC 6749 §5.2, RFC 7591 §3.2.2) or a 400 page, nothing stored, and no false alarms.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAdminTestApp, type AdminTestApp } from '../admin/helpers.ts';
import { REDIRECT_URI, registerClient } from '../helpers/oauth-flow.ts';

let app: AdminTestApp;
let clientId: string;
beforeAll(async () => {
  app = await createAdminTestApp();
  clientId = (await registerClient(app)).client_id;
}, 120_000);
afterAll(async () => app?.close());

const clientCount = async () => (await app.db.query<{ n: number }>("SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Client'")).rows[0]!.n;
const registration = (body: string | Buffer, type = 'application/json') =>
  app.http().post('/reg').set('Content-Type', type).serialize((raw: unknown) => raw as string).send(body);

it('registration metadata with NUL, a lone surrogate or bytes that are not UTF-8 is invalid_client_metadata, and no client is stored', async () => {
  const before = await clientCount();
  const metadata = (name: string) => `{"redirect_uris":["${REDIRECT_URI}"],"token_endpoint_auth_method":"none","client_name":"${name}"}`;
  for (const body of [metadata('a\\u0000b'), metadata('a\\ud800'), Buffer.concat([Buffer.from(metadata('a').slice(0, -2)), Buffer.from([0xff]), Buffer.from('"}')])]) {
    const response = await registration(body);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
  }
  const deep = await registration(`{"redirect_uris":["${REDIRECT_URI}"],"extra":${'['.repeat(5000)}${']'.repeat(5000)}}`);
  expect(deep.status).toBe(400);
  expect(deep.body).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringMatching(/nested deeper than 32/) });
  expect(await clientCount()).toBe(before);
});

it('ordinary non-ASCII metadata still registers (no false alarm)', async () => {
  const response = await registration(JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', client_name: 'Zoë’s 😀 client' }));
  expect(response.status, response.text).toBe(201);
  expect(response.body.client_name).toBe('Zoë’s 😀 client');
});

it('the token endpoint answers invalid_request JSON for a NUL in the form, an overlong encoding, or NUL in Basic credentials', async () => {
  const form = (extra: string) => app.http().post('/token').type('form').send(`grant_type=refresh_token&client_id=${clientId}&refresh_token=${extra}`);
  for (const response of [await form('a%00b'), await form('%C0%AF')]) {
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^the body /) });
  }
  const basic = await app.http().post('/token').type('form').set('Authorization', `Basic ${Buffer.from('a%00:b').toString('base64')}`)
    .send('grant_type=refresh_token&refresh_token=x');
  expect(basic.status).toBe(400);
  expect(basic.body.error).toBe('invalid_request');
});

it('a body over the limit: 400 invalid_request on the token endpoint, 413 on the admin API', async () => {
  const token = await app.http().post('/token').type('form').send(`grant_type=refresh_token&refresh_token=${'x'.repeat(60_000)}`);
  expect(token.status).toBe(400);
  expect(token.body.error).toBe('invalid_request');
  const api = await app.api().post('/admin/api/resources').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'x'.repeat(60_000) }));
  expect(api.status).toBe(413);
});

it('a body in another charset is refused rather than decoded past the checks', async () => {
  const response = await app.http().post('/token').set('Content-Type', 'application/x-www-form-urlencoded; charset=utf-16le')
    .send(Buffer.from('grant_type=refresh_token', 'utf16le'));
  expect(response.status).toBe(400);
  expect(response.body.error).toBe('invalid_request');
});

it('a browser gets a 400 page for a hostile authorization request or sign-in form, not a redirect or a 500', async () => {
  const authorization = await app.browser().get(`/auth?client_id=${clientId}&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&login_hint=a%00b`)
    .set('Accept', 'text/html');
  expect(authorization.status).toBe(400);
  expect(authorization.headers.location).toBeUndefined();
  expect(authorization.text).toContain('invalid_request');
  const signIn = await app.browser().post('/interaction/abc/login').type('form').set('Accept', 'text/html').send('email=%FF&password=x');
  expect(signIn.status).toBe(400);
  expect(signIn.type).toBe('text/html');
});

it('the admin API refuses a lone surrogate in JSON before it reaches a store', async () => {
  const response = await app.api().post('/admin/api/users').set('Content-Type', 'application/json')
    .send('{"email":"x\\udc00@example.com","password":"correct horse battery staple"}');
  expect(response.status).toBe(400);
  expect(response.body.error).toBe('invalid_request');
  const { rows } = await app.db.query<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE email LIKE 'x%@example.com'");
  expect(rows[0]!.n).toBe(0);
});
