// Login throttling: per email (known or not) and per IP, in the database so every process shares it;
// a throttled attempt is refused with 429 before the password is looked at, in words that reveal nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type TestAgent from 'supertest/lib/agent.js';
import { createTestApp, notesResource, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, follow, pkcePair, registerClient } from '../helpers/oauth-flow.ts';
import { signInWithPassword } from '../../src/accounts/sign-in.ts';
import { ipBucket, type LoginThrottle } from '../../src/accounts/login-throttle.ts';
import { databaseLoginAttempts, reserveAttempt } from '../../src/accounts/login-throttle-sql.ts';

const NOTES = 'https://mcp.example.com/mcp';
const POLICY = { maxFailuresPerEmail: 3, maxFailuresPerIp: 6, windowSeconds: 900, maxConcurrentPasswordChecks: 8 };
let app: TestApp;
let clientId: string;
/** The app's limits counted where the app counts them without REDIS_URL: the database. */
let THROTTLE: LoginThrottle;
beforeAll(async () => {
  app = await createTestApp({
    TRUST_PROXY: 'true', LOGIN_MAX_FAILURES_PER_EMAIL: '3', LOGIN_MAX_FAILURES_PER_IP: '6', LOGIN_THROTTLE_WINDOW_SECONDS: '900',
  });
  THROTTLE = { policy: POLICY, attempts: databaseLoginAttempts(app.db) };
  await app.addResource(notesResource(NOTES));
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => app?.close());

let ipCounter = 0;
/** A browser at the login page, coming from its own IP address (through the trusted proxy). */
async function loginPage(ip = `198.51.100.${++ipCounter}`) {
  const browser = app.browser().set('X-Forwarded-For', ip);
  const page = await follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  expect(page.text).toContain('name="password"');
  const path = new URL(page.request.url).pathname;
  const csrf = csrfTokenOf(page.text);
  const attempt = (email: string, password: string) => browser.post(`${path}/login`).type('form').send({ email, password, csrf });
  return { browser: browser as TestAgent, attempt };
}

const alertOf = (html: string) => /<p class="alert" role="alert">([^<]*)<\/p>/.exec(html)?.[1];

describe('per-email throttling', () => {
  it('locks an email after its failures, refuses even the right password, and says how long to wait', async () => {
    const user = await app.addUser();
    const { attempt } = await loginPage();
    for (let i = 0; i < 3; i++) expect((await attempt(user.email, 'wrong password')).status).toBe(401);
    const locked = await attempt(user.email, PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(890);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(alertOf(locked.text)).toBe('Too many sign-in attempts. Wait 15 minutes, then try again.');
    expect(locked.text).toContain('name="password"');
    // Another browser from another IP gets the same answer: the lock is on the email, not the visitor.
    const elsewhere = await loginPage();
    expect((await elsewhere.attempt(user.email.toUpperCase(), PASSWORD)).status).toBe(429);
  });

  it('answers an unknown email exactly like a known one', async () => {
    const user = await app.addUser();
    const known = await loginPage();
    const unknown = await loginPage();
    const answers = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 4; i++) {
      answers.known.push((await known.attempt(user.email, 'wrong password')).status);
      answers.unknown.push((await unknown.attempt(`nobody-${user.email}`, 'wrong password')).status);
    }
    expect(answers.known).toEqual([401, 401, 401, 429]);
    expect(answers.unknown).toEqual(answers.known);
    const [k, u] = [await known.attempt(user.email, 'x'), await unknown.attempt(`nobody-${user.email}`, 'x')];
    expect(u.status).toBe(k.status);
    expect(alertOf(u.text)).toBe(alertOf(k.text));
    expect(Math.abs(Number(u.headers['retry-after']) - Number(k.headers['retry-after']))).toBeLessThanOrEqual(2);
  });

  it('a successful sign-in clears the email’s failures', async () => {
    const user = await app.addUser();
    const { attempt } = await loginPage();
    expect((await attempt(user.email, 'wrong')).status).toBe(401);
    expect((await attempt(user.email, 'wrong')).status).toBe(401);
    expect((await attempt(user.email, PASSWORD)).status).toBe(303);
    const again = await loginPage();
    // Without the reset these would be failures 3 and 4, and the fourth would be locked.
    expect((await again.attempt(user.email, 'wrong')).status).toBe(401);
    expect((await again.attempt(user.email, 'wrong')).status).toBe(401);
  });

  it('records login.throttled once, when the lock begins', async () => {
    const user = await app.addUser();
    const { attempt } = await loginPage('203.0.113.77');
    for (let i = 0; i < 6; i++) await attempt(user.email, 'wrong');
    const mine = await app.db.query<{ outcome: string; details: { limited_by: string; retry_after_seconds: number } }>(
      "SELECT outcome, details FROM audit_events WHERE event_type = 'login.throttled' AND ip = '203.0.113.77'");
    expect(mine.rows).toHaveLength(1);
    expect(mine.rows[0]!.outcome).toBe('failure');
    expect(mine.rows[0]!.details.limited_by).toBe('email');
    expect(mine.rows[0]!.details.retry_after_seconds).toBeGreaterThan(880);
    expect(JSON.stringify(mine.rows[0])).not.toContain(user.email);
  });
});

describe('per-IP throttling', () => {
  it('locks an IP that tries many emails, and only that IP', async () => {
    const user = await app.addUser();
    const { attempt } = await loginPage('192.0.2.10');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await attempt(`spray-${i}@example.com`, 'Winter2025!')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
    const sameIp = await loginPage('192.0.2.10');
    expect((await sameIp.attempt(user.email, PASSWORD)).status).toBe(429);
    const otherIp = await loginPage('192.0.2.11');
    expect((await otherIp.attempt(user.email, PASSWORD)).status).toBe(303);
  });

  it('successful sign-ins from one IP (an office behind NAT) never lock it', async () => {
    for (let i = 0; i < 8; i++) {
      const result = await signInWithPassword(app.db, { email: (await app.addUser()).email, password: PASSWORD, ip: '192.0.2.50' }, THROTTLE);
      expect(result.ok).toBe(true);
    }
  });

  it('counts IPv6 addresses per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(ipBucket('2001:db8:1:2:aaaa::1')).toBe(ipBucket('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(ipBucket('2001:db8:1:2::1')).not.toBe(ipBucket('2001:db8:1:3::1'));
    expect(ipBucket('::ffff:192.0.2.1')).toBe(ipBucket('192.0.2.1'));
    expect(ipBucket('::1')).toBe('ip:0:0:0:0::/64');
  });
});

describe('the window and the database', () => {
  it('unlocks once the window has passed, and Retry-After counts down', async () => {
    const user = await app.addUser();
    const start = new Date('2030-01-01T00:00:00Z');
    const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
    const attempt = (password: string, seconds: number) =>
      signInWithPassword(app.db, { email: user.email, password, ip: '192.0.2.60' }, THROTTLE, at(seconds));
    for (let i = 0; i < 3; i++) expect(await attempt('wrong', i)).toEqual({ ok: false, reason: 'bad_credentials' });
    expect(await attempt(PASSWORD, 100)).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 800 });
    expect(await attempt(PASSWORD, 899)).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 1 });
    expect((await attempt(PASSWORD, 900)).ok).toBe(true);
  });

  it('parallel guesses cannot slip past the limit (the count is one atomic statement)', async () => {
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 12 }, () => reserveAttempt(app.db, 'email:parallel-test', 5, 900, now)));
    expect(results.filter((result) => result.allowed)).toHaveLength(5);
    expect(results.filter((result) => !result.allowed && result.lockedNow)).toHaveLength(1);
  });

  it('a second server on the same database sees the same lock', async () => {
    const user = await app.addUser();
    for (let i = 0; i < 3; i++) await signInWithPassword(app.db, { email: user.email, password: 'wrong', ip: '192.0.2.70' }, THROTTLE);
    const { createApp } = await import('../../src/app.ts');
    const { TEST_SECRETS } = await import('../helpers/test-app.ts');
    const supertest = (await import('supertest')).default;
    const other = await createApp({ config: app.config, db: app.db, secrets: TEST_SECRETS });
    const browser = supertest.agent(other.app.callback()).set('Host', 'localhost:4000').set('X-Forwarded-For', '192.0.2.71');
    const page = await follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const path = new URL(page.request.url).pathname;
    const response = await browser.post(`${path}/login`).type('form').send({ email: user.email, password: PASSWORD, csrf: csrfTokenOf(page.text) });
    expect(response.status).toBe(429);
  });
});
