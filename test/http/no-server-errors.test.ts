// A sweep of hostile and malformed requests over every endpoint, as HTML and as JSON clients:
// each gets a 4xx (an OAuth error or an error page), never a 5xx.
import { expect, it } from 'vitest';
import { createTestApp, notesResource } from '../helpers/test-app.ts';
import { registerClient, pkcePair } from '../helpers/oauth-flow.ts';

it('no malformed request makes any endpoint answer 5xx', async () => {
  const app = await createTestApp(); await app.addResource(notesResource());
  const { client_id } = await registerClient(app);
  const ch = pkcePair().challenge;
  const base = `response_type=code&client_id=${client_id}&redirect_uri=${encodeURIComponent('http://127.0.0.1:33418/callback')}&code_challenge=${ch}&code_challenge_method=S256&state=s`;
  const gets = [
    `/auth?${base}&resource=`, `/auth?${base}&scope=${'a'.repeat(5000)}`, `/auth?${base}&prompt=none`, `/auth?${base}&max_age=abc`,
    `/auth?${base}&request=eyJhbGciOiJub25lIn0.e30.`, `/auth?${base}&request_uri=urn:x`, `/auth?${base}&response_mode=form_post`,
    `/auth?${base}&response_mode=weird`, `/auth?${base}&claims=notjson`, `/auth?${base}&resource=https://mcp.example.com/mcp&resource=`,
    `/auth?${base}&ui_locales=${'x'.repeat(3000)}`, `/auth?${base}&id_token_hint=abc`, `/auth?${base}&code_challenge=${ch}`,
    `/auth?client_id[]=x`, `/auth?${base}&acr_values=zzz`, `/auth?${base}&nonce=${'n'.repeat(3000)}`,
    '/auth', '/auth?client_id=', '/jwks', '/interaction/x', '/interaction/x/confirm', '/session/end?post_logout_redirect_uri=http://evil', '/reg/abc',
    '/.well-known/oauth-authorization-server/extra', '/token', '/%ff', '/auth?%ff=1', '/auth?' + 'a=1&'.repeat(2000),
  ];
  const posts: [string, string, string][] = [
    ['/reg', 'application/json', JSON.stringify({ redirect_uris: 'string' })],
    ['/reg', 'application/json', JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], client_name: { a: 1 } })],
    ['/reg', 'application/json', JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], grant_types: 'x' })],
    ['/reg', 'application/json', '{"redirect_uris": ["http://127.0.0.1/cb"], "contacts": [1]}'],
    ['/reg', 'application/json', '{bad json'],
    ['/reg', 'application/json', JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], client_name: 'x'.repeat(60000) })],
    ['/reg', 'text/plain', 'hello'],
    ['/token', 'application/x-www-form-urlencoded', 'grant_type=authorization_code&client_id=' + client_id + '&code=a&code=b'],
    ['/token', 'application/x-www-form-urlencoded', 'grant_type=refresh_token&client_id=' + client_id + '&refresh_token[]=a'],
    ['/token', 'application/x-www-form-urlencoded', 'grant_type=refresh_token&client_id=x&client_secret=y&refresh_token=a'],
    ['/token', 'application/x-www-form-urlencoded', 'client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=abc&grant_type=refresh_token&refresh_token=a'],
    ['/token', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--'],
    ['/token/introspection', 'application/x-www-form-urlencoded', 'token=abc'],
    ['/token/introspection', 'application/x-www-form-urlencoded', 'client_id=' + client_id + '&token=eyJhbGciOiJFUzI1NiJ9.e30.x'],
    ['/token/revocation', 'application/x-www-form-urlencoded', 'client_id=' + client_id + '&token=eyJhbGciOiJFUzI1NiJ9.e30.x'],
    ['/token/revocation', 'application/x-www-form-urlencoded', 'client_id=' + client_id],
    ['/session/end/confirm', 'application/x-www-form-urlencoded', 'xsrf=abc&logout=yes'],
    ['/interaction/x/login', 'application/json', '{"email":"a"}'],
    ['/interaction/x/confirm', 'application/x-www-form-urlencoded', 'decision=maybe'],
    ['/auth', 'application/x-www-form-urlencoded', base],
  ];
  const bad: string[] = [];
  for (const path of gets) {
    for (const accept of ['text/html', 'application/json']) {
      const r = await app.browser().get(path).set('Accept', accept);
      if (r.status >= 500) bad.push(`GET ${path.slice(0, 80)} ${accept} → ${r.status} ${r.text.slice(0, 120)}`);
    }
  }
  for (const [path, type, body] of posts) {
    const r = await app.browser().post(path).set('Content-Type', type).send(body);
    if (r.status >= 500) bad.push(`POST ${path} ${body.slice(0, 60)} → ${r.status} ${r.text.slice(0, 160)}`);
  }
  await app.close();
  expect(bad, bad.join('\n')).toEqual([]);
});
