// What a forger sees on our forms: a POST without the page's anti-forgery token, with another browser's
// token, or from another site is refused with a 403 page, and nothing happens. Plus escaping of hostile names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ISSUER, notesResource, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, decide, follow, pkcePair, registerClient, signIn } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let clientId: string;
let email: string;
beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
  clientId = (await registerClient(app)).client_id;
  email = (await app.addUser()).email;
});
afterAll(async () => app?.close());

const start = (browser = app.browser()) =>
  follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }))
    .then((page) => ({ browser, page, path: new URL(page.request.url).pathname }));

async function atConsent() {
  const { browser, path } = await start();
  const page = await signIn(browser, path, email);
  expect(page.text).toContain('name="decision"');
  return { browser, page, path: new URL(page.request.url).pathname };
}

const loginSucceededCount = async () =>
  (await app.db.query("SELECT 1 FROM audit_events WHERE event_type = 'login.succeeded'")).rowCount;

describe('anti-forgery tokens', () => {
  it('every form of ours carries one', async () => {
    const { page: login } = await start();
    expect(login.text).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}">/);
    const { page: consent } = await atConsent();
    expect(consent.text).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}">/);
  });

  it('a sign-in POST without the token, with a made-up one or with another browser’s is refused, and no one is signed in', async () => {
    const before = await loginSucceededCount();
    const victim = await start();
    const attacker = await start();
    for (const csrf of [undefined, '', 'x'.repeat(43), csrfTokenOf(attacker.page.text), `${csrfTokenOf(victim.page.text)}A`]) {
      const response = await victim.browser.post(`${victim.path}/login`).set('Accept', 'text/html').type('form')
        .send({ email, password: PASSWORD, ...(csrf === undefined ? {} : { csrf }) });
      expect(response.status, String(csrf)).toBe(403);
      expect(response.text).toContain('This form has expired or was not sent from this site');
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    expect(await loginSucceededCount()).toBe(before);
    // The interaction is untouched: the page still asks for a password, and the right token works.
    const again = await victim.browser.get(victim.path);
    expect(again.text).toContain('name="password"');
    const ok = await victim.browser.post(`${victim.path}/login`).type('form').send({ email, password: PASSWORD, csrf: csrfTokenOf(victim.page.text) });
    expect(ok.status).toBe(303);
  });

  it('a token without its cookie is refused (the token is bound to this browser’s secret)', async () => {
    const authorize = await app.http().get(authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const interactionCookies = ([authorize.headers['set-cookie'] ?? []].flat() as string[])
      .map((cookie) => cookie.split(';')[0]!).filter((pair) => pair.startsWith('_interaction'));
    expect(interactionCookies.length).toBeGreaterThan(0);
    const path = new URL(authorize.headers.location as string, ISSUER).pathname;
    const page = await app.http().get(path).set('Cookie', interactionCookies.join('; '));
    expect(page.status).toBe(200);
    const withCookie = (extra: string[]) => app.http().post(`${path}/login`).set('Cookie', [...interactionCookies, ...extra].join('; ')).type('form')
      .send({ email, password: 'wrong password', csrf: csrfTokenOf(page.text) });
    expect((await withCookie([])).status).toBe(403);
    const csrfCookie = ([page.headers['set-cookie'] ?? []].flat() as string[]).map((cookie) => cookie.split(';')[0]!);
    expect((await withCookie(['portcullis_csrf=' + 'A'.repeat(43)])).status).toBe(403);
    expect((await withCookie(csrfCookie)).status).toBe(401);
  });

  it('a consent POST without the token is refused and no grant is made', async () => {
    const { browser, path } = await atConsent();
    const grantsBefore = (await app.db.query("SELECT 1 FROM oidc_models WHERE model = 'Grant'")).rowCount;
    const forged = await browser.post(`${path}/confirm`).set('Accept', 'application/json').type('form').send({ decision: 'approve', scope: 'notes:read' });
    expect(forged.status).toBe(403);
    expect(forged.body.error).toBe('invalid_csrf_token');
    expect((await app.db.query("SELECT 1 FROM oidc_models WHERE model = 'Grant'")).rowCount).toBe(grantsBefore);
    expect((await browser.get(path)).text).toContain('name="decision"');
  });

  it('the sign-out form keeps oidc-provider’s own xsrf check: a forged sign-out POST leaves the person signed in', async () => {
    const { browser, path } = await atConsent();
    await decide(browser, path, 'approve');
    const page = await browser.get('/session/end');
    expect(page.text).toMatch(/name="xsrf" value="[^"]+"/);
    const forged = await browser.post('/session/end/confirm').type('form').send({ xsrf: 'forged', logout: 'yes' });
    expect(forged.status).toBe(400);
    // Still signed in: the next authorization goes straight to consent or back to the client.
    const next = await start(browser);
    expect(next.page.text).not.toContain('name="password"');
  });
});

describe('cross-site requests', () => {
  it('a POST from another site is refused even with a valid token; same-origin, null and absent Origin pass', async () => {
    const cases: [Record<string, string>, number][] = [
      [{ Origin: 'https://evil.example' }, 403],
      [{ Origin: 'http://localhost:4001' }, 403],
      [{ 'Sec-Fetch-Site': 'cross-site' }, 403],
      [{ 'Sec-Fetch-Site': 'same-site', Origin: 'null' }, 403],
      [{ Origin: ISSUER, 'Sec-Fetch-Site': 'same-origin' }, 401],
      // Our pages send Referrer-Policy: no-referrer, so browsers send `Origin: null` on their own forms.
      [{ Origin: 'null', 'Sec-Fetch-Site': 'same-origin' }, 401],
      [{}, 401],
    ];
    for (const [headers, status] of cases) {
      const { browser, page, path } = await start();
      const response = await browser.post(`${path}/login`).set(headers).set('Accept', 'text/html').type('form')
        .send({ email, password: 'wrong password', csrf: csrfTokenOf(page.text) });
      expect(response.status, JSON.stringify(headers)).toBe(status);
      if (status === 403) expect(response.text).toContain('sent from another website');
    }
  });

  it('a cross-site consent POST is refused', async () => {
    const { browser, page, path } = await atConsent();
    const forged = await browser.post(`${path}/confirm`).set('Origin', 'https://evil.example').type('form')
      .send({ decision: 'approve', scope: 'notes:read', csrf: csrfTokenOf(page.text) });
    expect(forged.status).toBe(403);
    expect((await browser.get(path)).text).toContain('name="decision"');
  });
});

describe('escaping', () => {
  it('a hostile client name, resource name and echoed email show as text on the login and consent pages', async () => {
    const hostile = 'https://hostile.example.com/mcp';
    await app.addResource({ ...notesResource(hostile), name: '<img src=x onerror=alert(2)>' });
    const { client_id } = await registerClient(app, { client_name: '<script>alert(1)</script>' });
    const browser = app.browser();
    const login = await follow(browser, authorizeQuery({ clientId: client_id, resource: hostile, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const path = new URL(login.request.url).pathname;
    expect(login.text).not.toContain('<script>alert(1)</script>');
    expect(login.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const echoed = await browser.post(`${path}/login`).type('form').send({ email: '"><script>alert(3)</script>', password: 'x', csrf: csrfTokenOf(login.text) });
    expect(echoed.status).toBe(401);
    expect(echoed.text).not.toContain('<script>alert(3)');
    expect(echoed.text).toContain('&#34;&gt;&lt;script&gt;alert(3)');
    const consent = await signIn(browser, path, email);
    expect(consent.text).toContain('name="decision"');
    expect(consent.text).not.toMatch(/<script>alert\(1\)|<img src=x/);
    expect(consent.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(consent.text).toContain('&lt;img src=x onerror=alert(2)&gt;');
  });
});
