// A global bound on password checks running at once: past it a sign-in is refused at once with 429 and
// Retry-After (nothing hashed, nothing counted), so a flood of failed sign-ins cannot queue real ones.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseLoginAttempts } from '../../src/accounts/login-throttle-sql.ts';
import { withPasswordCheckSlot } from '../../src/accounts/password.ts';
import { signInWithPassword } from '../../src/accounts/sign-in.ts';
import { createTestApp, notesResource, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, follow, pkcePair, registerClient } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let clientId: string;
beforeAll(async () => {
  app = await createTestApp({ TRUST_PROXY: 'true', LOGIN_MAX_CONCURRENT_PASSWORD_CHECKS: '2' });
  await app.addResource(notesResource(NOTES));
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => app?.close());

describe('concurrent password checks', () => {
  it('a burst from many addresses: only the bound runs, the rest are refused at once and not counted', async () => {
    const throttle = { policy: { ...app.config.loginThrottle, maxConcurrentPasswordChecks: 2 }, attempts: databaseLoginAttempts(app.db) };
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      signInWithPassword(app.db, { email: `flood-${i}-${randomBytes(3).toString('hex')}@example.com`, password: 'guess', ip: `198.51.100.${i + 1}` }, throttle)));
    expect(burst.filter((result) => !result.ok && result.reason === 'bad_credentials')).toHaveLength(2);
    const refused = burst.filter((result) => !result.ok && result.reason === 'throttled');
    expect(refused).toHaveLength(8);
    for (const result of refused) expect(result).toMatchObject({ retryAfterSeconds: 1 });
    // Refused attempts left no failure behind: two emails and two addresses were counted, once each.
    const { rows } = await app.db.query<{ total: number }>('SELECT coalesce(sum(failures), 0)::int AS total FROM login_throttle');
    expect(rows[0]!.total).toBe(4);
    // Once the burst is over, a real sign-in goes through.
    const user = await app.addUser();
    expect(await signInWithPassword(app.db, { email: user.email, password: PASSWORD, ip: '203.0.113.1' }, throttle)).toMatchObject({ ok: true });
  });

  it('the sign-in page answers 429 with Retry-After while every slot is busy, and signs in once one frees', async () => {
    const user = await app.addUser();
    const browser = app.browser().set('X-Forwarded-For', '203.0.113.20');
    const page = await follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    const path = new URL(page.request.url).pathname;
    const csrf = csrfTokenOf(page.text);
    // Two checks that have not finished (a flood in progress) hold both slots.
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const holders = [withPasswordCheckSlot(2, () => held), withPasswordCheckSlot(2, () => held)];
    const busy = await browser.post(`${path}/login`).type('form').send({ email: user.email, password: PASSWORD, csrf });
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.text).toContain('name="password"');
    release();
    await Promise.all(holders);
    const signedIn = await browser.post(`${path}/login`).type('form').send({ email: user.email, password: PASSWORD, csrf });
    expect(signedIn.status, signedIn.text).toBe(303);
  });
});
