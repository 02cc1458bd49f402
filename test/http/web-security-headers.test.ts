// Headers and cookies on every kind of response: our pages, oidc-provider's redirects (including the
// one carrying the code), its error and form_post pages, discovery JSON; cookie names and attributes
// on an http issuer and on an https one behind a TLS proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Response } from 'supertest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { addResource } from '../../src/resources/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { createTestApp, notesResource, PASSWORD, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, checkedScopes, csrfTokenOf, decide, follow, obtainCode, pkcePair, registerClient, signIn } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let clientId: string;
beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => app?.close());

function expectSecurityHeaders(response: Response, what: string) {
  const csp = String(response.headers['content-security-policy'] ?? '');
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("default-src 'none'");
  expect(csp, what).not.toContain('unsafe-inline');
  expect(csp, what).not.toContain('unsafe-eval');
  expect(response.headers['referrer-policy'], what).toBe('no-referrer');
  expect(response.headers['x-content-type-options'], what).toBe('nosniff');
  expect(response.headers['x-frame-options'], what).toBe('DENY');
}

const setCookies = (response: Response) => [response.headers['set-cookie'] ?? []].flat() as string[];
const query = (extra: Record<string, string> = {}) =>
  authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256', extra });

describe('security headers', () => {
  it('are on the login page, the consent page and the 303 that carries the code', async () => {
    const user = await app.addUser();
    const browser = app.browser();
    const login = await follow(browser, query());
    expect(login.text).toContain('name="password"');
    expectSecurityHeaders(login, 'login page');
    const consent = await signIn(browser, new URL(login.request.url).pathname, user.email);
    expect(consent.text).toContain('name="decision"');
    expectSecurityHeaders(consent, 'consent page');
    const back = await decide(browser, new URL(consent.request.url).pathname, 'approve');
    expect(back.status).toBe(303);
    expect(new URL(back.headers.location as string).searchParams.get('code')).toBeTruthy();
    expectSecurityHeaders(back, 'redirect with the code');
  });

  it('let the sign-in and consent forms of a native app end at its private-use scheme, and only there', async () => {
    const redirectUri = 'com.example.notes:/oauth2redirect';
    const registration = await app.http().post('/reg').send({
      client_name: 'Native Notes', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', application_type: 'native',
    });
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    const user = await app.addUser();
    const browser = app.browser();
    const login = await follow(browser, authorizeQuery({
      clientId: registration.body.client_id, resource: NOTES, scope: 'notes:read', state: 's', redirectUri,
      codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
    }));
    expect(login.text).toContain('name="password"');
    expect(login.headers['content-security-policy']).toContain("form-action 'self' http: https: com.example.notes:;");
    const consent = await signIn(browser, new URL(login.request.url).pathname, user.email);
    expect(consent.headers['content-security-policy']).toContain("form-action 'self' http: https: com.example.notes:;");
    const back = await decide(browser, new URL(consent.request.url).pathname, 'approve');
    expect(back.headers.location).toMatch(/^com\.example\.notes:\/oauth2redirect\?code=/);
    // Another client's pages allow no such scheme.
    const other = await follow(app.browser(), query());
    expect(other.headers['content-security-policy']).toContain("form-action 'self' http: https:;");
  });

  it('are on oidc-provider’s error page, discovery JSON, our 403 page and the stylesheet', async () => {
    const error = await app.browser().get(authorizeQuery({ clientId: 'no-such-client', state: 's' })).set('Accept', 'text/html');
    expect(error.status).toBe(400);
    expect(error.text).toContain('invalid_client');
    expectSecurityHeaders(error, 'error page');
    const discovery = await app.http().get('/.well-known/oauth-authorization-server');
    expect(discovery.status).toBe(200);
    expectSecurityHeaders(discovery, 'discovery');
    const forbidden = await app.browser().post('/interaction/abc/login').set('Accept', 'text/html').type('form').send({ email: 'a@b.c' });
    expect(forbidden.status).toBe(403);
    expectSecurityHeaders(forbidden, '403 page');
    const css = await app.http().get('/assets/style.css');
    expectSecurityHeaders(css, 'stylesheet');
  });

  it('the form_post page runs only its own hashed script, and keeps every other header', async () => {
    const user = await app.addUser();
    const browser = app.browser();
    const login = await follow(browser, query({ response_mode: 'form_post' }));
    const consent = await signIn(browser, new URL(login.request.url).pathname, user.email);
    const page = await decide(browser, new URL(consent.request.url).pathname, 'approve');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/name="code" value="[^"]+"/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expectSecurityHeaders(page, 'form_post page');
  });

  it('are on the sign-out confirmation and signed-out pages', async () => {
    const user = await app.addUser();
    const browser = app.browser();
    await obtainCode(app, browser, user.email, { clientId, resource: NOTES, scope: 'notes:read' });
    const confirm = await browser.get('/session/end');
    expect(confirm.text).toContain('Sign out?');
    expectSecurityHeaders(confirm, 'sign-out page');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.text)![1]!;
    const signedOut = await browser.post('/session/end/confirm').type('form').send({ xsrf, logout: 'yes' });
    expect(signedOut.status).toBe(303);
    expectSecurityHeaders(signedOut, 'sign-out redirect');
    const page = await follow(browser, new URL(signedOut.headers.location as string).pathname);
    expect(page.text).toContain('signed out');
    expectSecurityHeaders(page, 'signed-out page');
  });
});

/** What a browser keeps: name → value, updated from each response's Set-Cookie. */
function cookieJar() {
  const values = new Map<string, string>();
  const seen: string[] = [];
  return {
    seen,
    take(response: Response) {
      for (const cookie of setCookies(response)) {
        seen.push(cookie);
        const [pair = ''] = cookie.split(';');
        const name = pair.slice(0, pair.indexOf('='));
        if (/expires=Thu, 01 Jan 1970/i.test(cookie)) values.delete(name);
        else values.set(name, pair.slice(name.length + 1));
      }
      return response;
    },
    header: () => [...values].map(([name, value]) => `${name}=${value}`).join('; '),
  };
}

describe('cookies', () => {
  it('on an http issuer: plain names, HttpOnly and SameSite=Lax, not Secure (a browser would drop it)', async () => {
    const user = await app.addUser();
    const browser = app.browser();
    const authorize = await browser.get(query());
    const login = await follow(browser, new URL(authorize.headers.location as string, 'http://x').pathname);
    const signedIn = await browser.post(`${new URL(login.request.url).pathname}/login`).type('form').send({ email: user.email, password: PASSWORD, csrf: csrfTokenOf(login.text) });
    const resumed = await browser.get(new URL(signedIn.headers.location as string, 'http://x').pathname);
    const cookies = [authorize, login, resumed].flatMap(setCookies);
    const names = new Set(cookies.map((cookie) => cookie.split('=')[0]));
    expect(names).toEqual(new Set(['_interaction', '_interaction.sig', '_interaction_resume', '_interaction_resume.sig', 'portcullis_auth_restart', 'portcullis_auth_restart.sig', 'portcullis_csrf', '_session', '_session.sig']));
    for (const cookie of cookies) {
      expect(cookie.toLowerCase()).toContain('httponly');
      expect(cookie.toLowerCase()).toContain('samesite=lax');
      expect(cookie.toLowerCase()).not.toContain('secure');
    }
  });

  describe('on an https issuer behind a TLS proxy', () => {
    let testDb: TestDb;
    let proxied: () => ReturnType<typeof request.agent>;
    beforeAll(async () => {
      testDb = await createMigratedTestDb();
      await addResource(testDb.db, notesResource(NOTES), 300);
      const config = loadConfig({ ISSUER: 'https://auth.example.com', TRUST_PROXY: 'true' });
      const { app: koa } = await createApp({ config, db: testDb.db, secrets: TEST_SECRETS });
      proxied = () => request.agent(koa.callback()).set('Host', 'auth.example.com').set('X-Forwarded-Proto', 'https');
    });
    afterAll(async () => testDb?.cleanup());

    it('__Host- for Path=/ cookies, __Secure- for oidc-provider’s path-scoped ones; all Secure, HttpOnly, SameSite=Lax, host-only', async () => {
      const account = await addAccount(testDb.db, { email: 'tls@example.com', password: PASSWORD });
      const registered = await proxied().post('/reg').send({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' });
      const jar = cookieJar();
      const get = async (path: string) => jar.take(await proxied().get(path).set('Cookie', jar.header()));
      const post = async (path: string, form: Record<string, string | string[]>) => {
        const body = new URLSearchParams();
        for (const [key, value] of Object.entries(form)) for (const v of [value].flat()) body.append(key, v);
        return jar.take(await proxied().post(path).set('Cookie', jar.header()).set('Origin', 'https://auth.example.com').type('form').send(body.toString()));
      };
      const authorize = await get(authorizeQuery({ clientId: registered.body.client_id, redirectUri: 'http://127.0.0.1:9/cb', resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
      expect(authorize.status).toBe(303);
      const interaction = new URL(authorize.headers.location as string, 'https://auth.example.com').pathname;
      const login = await get(interaction);
      expect(login.status).toBe(200);
      const signedIn = await post(`${interaction}/login`, { email: account.email, password: PASSWORD, csrf: csrfTokenOf(login.text) });
      expect(signedIn.status, signedIn.text).toBe(303);
      // follow() through the jar: this agent would not send Secure cookies back over the test's plain http.
      const consent = await follow({ get } as never, new URL(signedIn.headers.location as string).pathname);
      expect(consent.text).toContain('name="decision"');
      const consentPath = new URL(consent.request.url).pathname;
      const decided = await post(`${consentPath}/confirm`, { decision: 'approve', scope: checkedScopes(consent.text), csrf: csrfTokenOf(consent.text) });
      expect(decided.status, decided.text).toBe(303);
      const back = await get(new URL(decided.headers.location as string).pathname);
      expect(back.status).toBe(303);
      expect(back.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:9\/cb\?code=/);
      expectSecurityHeaders(back, 'https redirect with the code');

      const names = new Set(jar.seen.map((cookie) => cookie.split('=')[0]));
      expect(names).toEqual(new Set([
        '__Secure-interaction', '__Secure-interaction.sig', '__Secure-interaction_resume', '__Secure-interaction_resume.sig',
        '__Secure-auth_restart', '__Secure-auth_restart.sig',
        '__Host-portcullis_csrf', '__Host-session', '__Host-session.sig',
      ]));
      for (const cookie of jar.seen) {
        const attributes = cookie.toLowerCase().split(/;\s*/).slice(1);
        expect(attributes, cookie).toContain('secure');
        expect(attributes, cookie).toContain('httponly');
        expect(attributes, cookie).toContain('samesite=lax');
        expect(attributes.some((attribute) => attribute.startsWith('domain=')), cookie).toBe(false);
        if (cookie.startsWith('__Host-')) expect(attributes, cookie).toContain('path=/');
      }
    });
  });
});
