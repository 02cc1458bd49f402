// With REDIS_URL set, the sign-in and registration limits count in Redis: what a guesser and a
// registering client see, two apps sharing one count, the database tables left empty. With Redis
// unreachable they fall back to the database (never a 500) and log one warning, not one per request.
// Tests against a real Redis run when TEST_REDIS_URL names one (keys under a random prefix, deleted afterwards).
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { setLogDestination } from '../../src/log.ts';
import { createTestApp, ISSUER, notesResource, PASSWORD, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, follow, pkcePair, registerClient } from '../helpers/oauth-flow.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;
const NOTES = 'https://mcp.example.com/mcp';
const prefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
let redis: Redis | undefined;
let cleanups: Array<() => Promise<void>> = [];

beforeAll(() => { if (REDIS_URL) redis = new Redis(REDIS_URL); });
afterEach(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  cleanups = [];
});
afterAll(async () => {
  if (!redis) return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  expect(await redis.keys(`${prefix}*`)).toEqual([]);
  redis.disconnect();
});

// Each test counts from zero under its own prefix (below the file's, which afterAll clears).
let testNumber = 0;
const redisEnvironment = () => ({ REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: `${prefix}${(testNumber += 1)}:`, TRUST_PROXY: 'true' });

async function testApp(environment: Record<string, string>): Promise<TestApp & { clientId: string }> {
  const app = await createTestApp(environment);
  cleanups.push(() => app.close());
  await app.addResource(notesResource(NOTES));
  return Object.assign(app, { clientId: (await registerClient(app)).client_id });
}

let ipCounter = 0;
const nextIp = () => `198.51.100.${(ipCounter += 1)}`;

/** A browser at the sign-in page of `agent`'s app, from `ip` (through the trusted proxy). */
async function loginPage(agent: TestAgent, clientId: string, ip = nextIp()) {
  const browser = agent.set('X-Forwarded-For', ip);
  const page = await follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  expect(page.text).toContain('name="password"');
  const path = new URL(page.request.url).pathname;
  const csrf = csrfTokenOf(page.text);
  return (email: string, password: string) => browser.post(`${path}/login`).type('form').send({ email, password, csrf });
}

const alertOf = (html: string) => /<p class="alert" role="alert">([^<]*)<\/p>/.exec(html)?.[1];
const rowsIn = async (app: TestApp, table: 'login_throttle' | 'registration_rate') =>
  Number((await app.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
const metadata = () => ({ client_name: 'Client', redirect_uris: ['http://127.0.0.1:5555/cb'], token_endpoint_auth_method: 'none' });

describe.skipIf(!REDIS_URL)('sign-in limits in Redis', () => {
  it('5 failures per email, then 429 with Retry-After, in the same words for a known and an unknown email', async () => {
    const app = await testApp(redisEnvironment());
    const user = await app.addUser();
    const known = await loginPage(app.browser(), app.clientId);
    const unknown = await loginPage(app.browser(), app.clientId);
    const statuses = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 6; i += 1) {
      statuses.known.push((await known(user.email, 'wrong password')).status);
      statuses.unknown.push((await unknown(`nobody-${user.email}`, 'wrong password')).status);
    }
    expect(statuses.known).toEqual([401, 401, 401, 401, 401, 429]);
    expect(statuses.unknown).toEqual(statuses.known);
    // Locked: even the right password is refused, before it is checked.
    const [k, u] = [await known(user.email, PASSWORD), await unknown(`nobody-${user.email}`, PASSWORD)];
    expect([k.status, u.status]).toEqual([429, 429]);
    expect(Number(k.headers['retry-after'])).toBeGreaterThan(890);
    expect(Number(k.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(Math.abs(Number(u.headers['retry-after']) - Number(k.headers['retry-after']))).toBeLessThanOrEqual(2);
    expect(alertOf(k.text)).toBe('Too many sign-in attempts. Wait 15 minutes, then try again.');
    expect(alertOf(u.text)).toBe(alertOf(k.text));
    // One login.throttled per lock (lockedNow), however many refusals follow.
    const throttled = await app.db.query("SELECT 1 FROM audit_events WHERE event_type = 'login.throttled'");
    expect(throttled.rowCount).toBe(2);
    // Counted in Redis, not in the database.
    expect(await redis!.keys(`${app.config.rateLimits.redisKeyPrefix}login:email:*`)).toHaveLength(2);
    expect(await rowsIn(app, 'login_throttle')).toBe(0);
  });

  it('20 parallel wrong passwords for one email: never more than 5 are checked', async () => {
    const app = await testApp(redisEnvironment());
    const user = await app.addUser();
    const attempt = await loginPage(app.browser(), app.clientId);
    const responses = await Promise.all(Array.from({ length: 20 }, () => attempt(user.email, 'wrong password')));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    expect(await rowsIn(app, 'login_throttle')).toBe(0);
  });

  it('a successful sign-in clears the email’s failures', async () => {
    const app = await testApp(redisEnvironment());
    const user = await app.addUser();
    const attempt = await loginPage(app.browser(), app.clientId);
    for (let i = 0; i < 4; i += 1) expect((await attempt(user.email, 'wrong')).status).toBe(401);
    expect((await attempt(user.email, PASSWORD)).status).toBe(303);
    const again = await loginPage(app.browser(), app.clientId);
    // Without the reset the second of these would be failure 6, and locked.
    for (let i = 0; i < 5; i += 1) expect((await again(user.email, 'wrong')).status).toBe(401);
    expect((await again(user.email, 'wrong')).status).toBe(429);
  });

  it('successful sign-ins give their IP reservation back: they never lock the IP', async () => {
    const app = await testApp({ ...redisEnvironment(), LOGIN_MAX_FAILURES_PER_IP: '3' });
    const ip = nextIp();
    for (let i = 0; i < 5; i += 1) {
      const attempt = await loginPage(app.browser(), app.clientId, ip);
      expect((await attempt((await app.addUser()).email, PASSWORD)).status).toBe(303);
    }
    // The IP's own failures still count: 3 allowed, the 4th locked.
    const attempt = await loginPage(app.browser(), app.clientId, ip);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await attempt(`spray-${i}@example.com`, 'wrong')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('two apps on one database and one Redis share the count', async () => {
    const environment = redisEnvironment();
    const first = await testApp(environment);
    const second = await createApp({ config: loadConfig({ ISSUER, ...environment }), db: first.db, secrets: TEST_SECRETS });
    cleanups.unshift(() => second.close());
    const user = await first.addUser();
    const onFirst = await loginPage(first.browser(), first.clientId);
    for (let i = 0; i < 5; i += 1) expect((await onFirst(user.email, 'wrong')).status).toBe(401);
    const onSecond = await loginPage(request.agent(second.app.callback()).set('Host', new URL(ISSUER).host), first.clientId);
    const refused = await onSecond(user.email, PASSWORD);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(890);
    expect(await rowsIn(first, 'login_throttle')).toBe(0);
  });
});

describe.skipIf(!REDIS_URL)('registration limit in Redis', () => {
  it('N registrations per IP, then 429 with Retry-After and an OAuth body; shared by two apps; nothing in registration_rate', async () => {
    const environment = { ...redisEnvironment(), REGISTRATION_MAX_PER_IP: '3' };
    const app = await testApp(environment);
    const second = await createApp({ config: loadConfig({ ISSUER, ...environment }), db: app.db, secrets: TEST_SECRETS });
    cleanups.unshift(() => second.close());
    const register = (agent: TestAgent) => agent.post('/reg').set('X-Forwarded-For', '203.0.113.9').send(metadata());
    for (let i = 0; i < 3; i += 1) expect((await register(app.http())).status).toBe(201);
    const refused = await register(request.agent(second.app.callback()).set('Host', new URL(ISSUER).host));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3590);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringContaining(`${retryAfter} seconds`) });
    // Another address is not affected.
    expect((await app.http().post('/reg').set('X-Forwarded-For', '203.0.113.10').send(metadata())).status).toBe(201);
    expect(await redis!.keys(`${environment.REDIS_KEY_PREFIX}registration:ip:*`)).toHaveLength(3);
    expect(await rowsIn(app, 'registration_rate')).toBe(0);
  });
});

describe('Redis unreachable', () => {
  /** A port nothing listens on: bound by us, then closed. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('the limits still hold, counted in the database; never a 500; one warning per limit, not one per request', async () => {
    const lines: string[] = [];
    setLogDestination(new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } }));
    cleanups.push(async () => setLogDestination(undefined));
    const app = await testApp({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, TRUST_PROXY: 'true', REGISTRATION_MAX_PER_IP: '3' });
    const user = await app.addUser();
    const attempt = await loginPage(app.browser(), app.clientId);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await attempt(user.email, 'wrong')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(await rowsIn(app, 'login_throttle')).toBeGreaterThan(0);

    // registerClient above used one registration from the test's own address; this one gets all 3.
    const register = () => app.http().post('/reg').set('X-Forwarded-For', '203.0.113.20').send(metadata());
    const registrations: number[] = [];
    for (let i = 0; i < 4; i += 1) registrations.push((await register()).status);
    expect(registrations).toEqual([201, 201, 201, 429]);
    expect(await rowsIn(app, 'registration_rate')).toBeGreaterThan(0);

    const warnings = lines.map((line) => JSON.parse(line) as { msg: string; limit: string })
      .filter((line) => line.msg === 'rate limit Redis unreachable; counting in the database');
    expect(warnings.map((warning) => warning.limit).sort()).toEqual(['login', 'registration']);
  });
});
