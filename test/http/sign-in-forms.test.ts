// The three sign-in forms (the authorization flow's, /account's, the console's) are one piece over one service
// (src/http/sign-in-form.ts, src/accounts/sign-in.ts): the same refusals in the same words and statuses, the
// email kept in the form, and every outcome on the record with the form it came through.
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/accounts/store.ts';
import { postAccountForm } from '../helpers/portal.ts';
import { authorizeQuery, csrfTokenOf, follow, pkcePair, registerClient } from '../helpers/oauth-flow.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import { createAdminTestApp, signInToConsole, type AdminTestApp } from '../admin/helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
const BAD_CREDENTIALS = 'That email and password do not match an account. Check them and try again.';
let app: AdminTestApp;
let clientId: string;

beforeAll(async () => {
  // Two failures per email and a two-minute window: a lock is two requests away and says "2 minutes".
  app = await createAdminTestApp({
    TRUST_PROXY: 'true', LOGIN_MAX_FAILURES_PER_EMAIL: '2', LOGIN_MAX_FAILURES_PER_IP: '50', LOGIN_THROTTLE_WINDOW_SECONDS: '120',
  });
  await app.addResource(notesResource(NOTES));
  clientId = (await registerClient(app)).client_id;
}, 120_000);
afterAll(async () => { await app?.close(); });

type Attempt = (email: string, password: string) => Promise<{ status: number; text: string; headers: Record<string, string> }>;
interface Form { name: string; via: 'account' | 'admin' | undefined; open(browser: TestAgent): Promise<Attempt> }

const FORMS: Form[] = [
  {
    name: 'the authorization flow',
    via: undefined,
    async open(browser) {
      const page = await follow(browser, authorizeQuery({
        clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
      }));
      expect(page.text).toContain('name="password"');
      const path = new URL(page.request.url).pathname;
      const csrf = csrfTokenOf(page.text);
      return (email, password) => browser.post(`${path}/login`).type('form').send({ email, password, csrf });
    },
  },
  { name: '/account', via: 'account', open: async (browser) => (email, password) => postAccountForm(browser, '/account/login', { email, password }) },
  { name: 'the console', via: 'admin', open: async (browser) => (email, password) => signInToConsole(browser, email, password) },
];

let ipCounter = 0;
/** A browser of its own address (through the trusted proxy), so only its own attempts count against it. */
function browserAt(): { browser: TestAgent; ip: string } {
  const ip = `198.51.100.${++ipCounter}`;
  return { browser: app.browser().set('X-Forwarded-For', ip) as TestAgent, ip };
}

const alertOf = (html: string) => /<p class="alert" role="alert">([^<]*)<\/p>/.exec(html)?.[1];
const eventsAt = async (type: string, ip: string) => (await app.db.query<{
  outcome: string; actor_type: string; actor_id: string | null; account_id: string | null; client_id: string | null; details: Record<string, unknown>;
}>('SELECT outcome, actor_type, actor_id, account_id, client_id, details FROM audit_events WHERE event_type = $1 AND ip = $2 ORDER BY id', [type, ip])).rows;
const newAdmin = () => addAccount(app.db, { email: `admin-${Math.random().toString(36).slice(2)}@example.com`, password: PASSWORD, isAdmin: true });

describe.each(FORMS)('the sign-in form of $name', (form) => {
  const expectedVia = form.via === undefined ? {} : { via: form.via };

  it('answers a wrong password with 401, the shared words and the email kept, and records login.failed', async () => {
    const { browser, ip } = browserAt();
    const user = await app.addUser();
    const refused = await (await form.open(browser))(user.email, 'wrong password');
    expect(refused.status).toBe(401);
    expect(refused.headers['retry-after']).toBeUndefined();
    expect(alertOf(refused.text)).toBe(BAD_CREDENTIALS);
    expect(refused.text).toContain(`value="${user.email}"`);
    expect(refused.text).not.toContain('wrong password');
    expect(await eventsAt('login.failed', ip)).toEqual([{
      outcome: 'failure', actor_type: 'user', actor_id: null, account_id: null,
      client_id: form.via === undefined ? clientId : null, details: { reason: 'bad_credentials', ...expectedVia },
    }]);
  });

  it('past the email\'s limit refuses even the right password with 429, Retry-After and the wait in minutes', async () => {
    const { browser, ip } = browserAt();
    const user = await app.addUser();
    const attempt = await form.open(browser);
    for (let i = 0; i < 2; i++) expect((await attempt(user.email, 'wrong password')).status).toBe(401);
    const locked = await attempt(user.email, PASSWORD);
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(alertOf(locked.text)).toBe('Too many sign-in attempts. Wait 2 minutes, then try again.');
    expect(locked.text).toContain('name="password"');
    expect((await eventsAt('login.throttled', ip)).map((event) => event.details.limited_by)).toEqual(['email']);
    expect(await eventsAt('login.succeeded', ip)).toEqual([]);
  });

  it('records the right password as login.succeeded, the person its actor, with the form it came through', async () => {
    const { browser, ip } = browserAt();
    const admin = await newAdmin();
    const signedIn = await (await form.open(browser))(admin.email, PASSWORD);
    expect(signedIn.status).toBe(303);
    expect(await eventsAt('login.succeeded', ip)).toEqual([{
      outcome: 'success', actor_type: 'user', actor_id: admin.id, account_id: admin.id,
      client_id: form.via === undefined ? clientId : null, details: expectedVia,
    }]);
  });
});

describe('the console\'s sign-in form', () => {
  it('refuses the right password of an account that is not an admin: 403, no session started, the attempt on the record', async () => {
    const { browser, ip } = browserAt();
    const user = await app.addUser();
    const refused = await signInToConsole(browser, user.email);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('This page is for the administrators of this server.');
    // No session: the console sends this browser to sign in, and /account asks it to.
    const consolePage = await browser.get('/admin');
    expect(consolePage.status).toBe(303);
    expect(consolePage.headers.location).toBe('/admin/login');
    expect((await browser.get('/account')).text).toContain('name="password"');
    expect(await eventsAt('admin.action', ip)).toEqual([{
      outcome: 'failure', actor_type: 'user', actor_id: user.id, account_id: user.id, client_id: null,
      details: { action: 'console.sign_in', reason: 'not_admin' },
    }]);
    expect(await eventsAt('login.succeeded', ip)).toEqual([]);
  });
});
