// Signing in to /account shares oidc-provider's session with the authorization flow, in both
// directions; wrong passwords say nothing about which emails exist; signing out here or everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, notesResource, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, follow, pathOf, pkcePair, registerClient } from '../helpers/oauth-flow.ts';
import { connectClient, postAccountForm, signInToPortal } from '../helpers/portal.ts';

const NOTES = 'https://mcp.example.com/mcp';
const GENERIC_ERROR = 'That email and password do not match an account. Check them and try again.';
let app: TestApp;

beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => app?.close());

type Browser = ReturnType<TestApp['browser']>;

const sessionRows = async (accountId: string) => (await app.db.query(
  "SELECT id FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1", [accountId])).rows.length;

/** The page an authorization request in this browser lands on (login form or consent page). */
async function startAuthorization(browser: Browser) {
  const { client_id: clientId } = await registerClient(app);
  return follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
}

const sessionCookieOf = (setCookie: string[] | undefined) =>
  (setCookie ?? []).find((cookie) => cookie.startsWith(`${app.provider.cookieName('session')}=`));

/** A cookie's attributes, without its value and expiry time. */
const attributesOf = (cookie: string | undefined) =>
  (cookie ?? '').split('; ').slice(1).map((part) => part.replace(/^expires=.*$/, 'expires')).sort();

/** The session cookie oidc-provider itself sets when a person signs in during an authorization. */
async function cookieSetByAuthorizationFlow(email: string) {
  const browser = app.browser();
  const login = await startAuthorization(browser);
  const interactionPath = new URL(login.request.url).pathname;
  const posted = await browser.post(`${interactionPath}/login`).type('form').send({ email, password: PASSWORD, csrf: csrfTokenOf(login.text) });
  expect(posted.status).toBe(303);
  const resumed = await browser.get(pathOf(posted.headers.location as string));
  return sessionCookieOf(resumed.headers['set-cookie'] as unknown as string[]);
}

describe('signing in to /account', () => {
  it('shows a sign-in form to a browser that is not signed in', async () => {
    const page = await app.browser().get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/account/login"');
    expect(page.text).toMatch(/<label for="email">Email<\/label>\s*<input id="email" name="email" type="email"/);
    expect(page.text).toMatch(/<label for="password">Password<\/label>\s*<input id="password" name="password" type="password"/);
    expect(page.text).not.toContain('grant_id');
  });

  it('answers a wrong password and an unknown email alike: 401 and the login page\'s generic message', async () => {
    const { email } = await app.addUser();
    const wrong = await signInToPortal(app.browser(), email, 'not the password');
    const unknown = await signInToPortal(app.browser(), 'nobody@example.com', 'not the password');
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.text).toContain(GENERIC_ERROR);
      expect(sessionCookieOf(response.headers['set-cookie'] as unknown as string[])).toBeUndefined();
    }
  });

  it('creates the authorization flow\'s own session: the next authorization skips the login page', async () => {
    const { id, email } = await app.addUser();
    const browser = app.browser();
    expect((await startAuthorization(app.browser())).text).toContain('name="password"');

    const response = await signInToPortal(browser, email);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account');
    expect(await sessionRows(id)).toBe(1);
    const cookie = sessionCookieOf(response.headers['set-cookie'] as unknown as string[]);
    expect(attributesOf(cookie)).toEqual(attributesOf(await cookieSetByAuthorizationFlow(email)));
    const expires = Date.parse(/; expires=([^;]+)/.exec(cookie ?? '')?.[1] ?? '');
    expect(expires - Date.now()).toBeGreaterThan(13 * 24 * 3600 * 1000);
    // Signed like every cookie oidc-provider sets.
    expect(response.headers['set-cookie']).toEqual(expect.arrayContaining([expect.stringMatching(
      new RegExp(`^${app.provider.cookieName('session')}\\.sig=`))]));
    expect((await browser.get('/account')).text).toContain(`Signed in as <strong>${email}</strong>`);

    const authorization = await startAuthorization(browser);
    expect(authorization.status).toBe(200);
    expect(authorization.text).not.toContain('name="password"');
    expect(authorization.text).toContain('name="decision"');
  });

  it('knows a person who signed in during an authorization flow', async () => {
    const { email } = await app.addUser();
    const browser = app.browser();
    await connectClient(app, browser, email, { resource: NOTES, scope: 'notes:read' });
    expect((await browser.get('/account')).text).toContain(`Signed in as <strong>${email}</strong>`);
  });

  it('gives the session a new id on sign-in, and ends another person\'s session in that browser', async () => {
    const alice = await app.addUser();
    const bob = await app.addUser();
    const browser = app.browser();
    const first = sessionCookieOf((await signInToPortal(browser, alice.email)).headers['set-cookie'] as unknown as string[]);
    const second = sessionCookieOf((await signInToPortal(browser, alice.email)).headers['set-cookie'] as unknown as string[]);
    expect(second?.split(';')[0]).not.toBe(first?.split(';')[0]);
    expect(await sessionRows(alice.id)).toBe(1);

    expect((await signInToPortal(browser, bob.email)).status).toBe(303);
    expect(await sessionRows(alice.id)).toBe(0);
    expect((await browser.get('/account')).text).toContain(`Signed in as <strong>${bob.email}</strong>`);
  });

  it('is throttled like the login page: after too many failures even the right password gets 429', async () => {
    const { id, email } = await app.addUser();
    const browser = app.browser();
    for (let attempt = 0; attempt < app.config.loginThrottle.maxFailuresPerEmail; attempt += 1) {
      expect((await signInToPortal(browser, email, 'wrong password')).status).toBe(401);
    }
    const locked = await signInToPortal(browser, email);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.text).toContain('Too many sign-in attempts.');
    expect(await sessionRows(id)).toBe(0);
  });

  it('refuses a sign-in form without its anti-forgery field', async () => {
    const { id, email } = await app.addUser();
    const response = await app.browser().post('/account/login').type('form').send({ email, password: PASSWORD });
    expect(response.status).toBe(403);
    expect(await sessionRows(id)).toBe(0);
  });
});

describe('signing out', () => {
  it('"Sign out" ends this browser\'s session: the portal and the authorization flow ask to sign in again', async () => {
    const { id, email } = await app.addUser();
    const browser = app.browser();
    await signInToPortal(browser, email);
    const response = await postAccountForm(browser, '/account/logout');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account?status=signed-out');
    expect(await sessionRows(id)).toBe(0);
    const page = await browser.get(response.headers.location as string);
    expect(page.text).toContain('You are signed out in this browser.');
    expect(page.text).toContain('action="/account/login"');
    expect((await startAuthorization(browser)).text).toContain('name="password"');
  });

  it('"Sign out of all sessions" signs out every browser of the person, and keeps their grants', async () => {
    const { id, email } = await app.addUser();
    const other = await app.addUser();
    const phone = app.browser();
    const laptop = app.browser();
    const bystander = app.browser();
    const notes = await connectClient(app, phone, email, { resource: NOTES, scope: 'notes:read' });
    await signInToPortal(laptop, email);
    await signInToPortal(bystander, other.email);
    expect(await sessionRows(id)).toBe(2);

    const response = await postAccountForm(phone, '/account/sessions/revoke');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account?status=signed-out-everywhere');
    expect(await sessionRows(id)).toBe(0);
    expect((await laptop.get('/account')).text).toContain('action="/account/login"');
    expect((await phone.get('/account')).text).toContain('action="/account/login"');
    expect((await bystander.get('/account')).text).toContain(`Signed in as <strong>${other.email}</strong>`);
    const grants = await app.db.query("SELECT 1 FROM oidc_models WHERE model = 'Grant' AND id = $1", [notes.grantId]);
    expect(grants.rows).toHaveLength(1);
  });

  it('sends a browser that is not signed in back to the sign-in form', async () => {
    const response = await postAccountForm(app.browser(), '/account/sessions/revoke');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account');
  });
});
