// The security rules of federated sign-in (issue 12), each tried by an attacker against a real upstream
// oidc-provider on loopback: a replayed state, login CSRF (someone else's callback in your browser), a swapped
// nonce, mix-up (another provider's code or `iss`), an upstream error, a disabled provider, and "SSO only"
// by every password route (the authorization flow's form, /account, the console), existing accounts included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/accounts/store.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { updateIdentityProvider } from '../../src/federation/service.ts';
import { createNotesTestApp, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { addUpstream, CALLBACK, continueWith, deliver, federatedSignIn, federationDeps, reachLoginPage } from '../helpers/federation-flow.ts';
import { csrfTokenOf } from '../helpers/oauth-flow.ts';

let app: TestApp;
let idp: UpstreamIdp;
let other: UpstreamIdp;

const lastAudit = async (type: string) => (await app.db.query<{ outcome: string; details: Record<string, unknown> }>(
  'SELECT outcome, details FROM audit_events WHERE event_type = $1 ORDER BY occurred_at DESC LIMIT 1', [type])).rows[0];
const federatedLogins = async () => Number((await app.db.query<{ n: string }>(
  "SELECT count(*) AS n FROM audit_events WHERE event_type = 'login.succeeded' AND details->>'via' = 'federation'")).rows[0]!.n);
const sessions = async () => Number((await app.db.query<{ n: string }>("SELECT count(*) AS n FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' IS NOT NULL")).rows[0]!.n);

/** "Continue with acme" in `browser`: the upstream authorization URL it was sent to. */
async function leaveFor(browser: ReturnType<TestApp['browser']>, provider = 'acme') {
  const { path } = await reachLoginPage(app, browser);
  const started = await continueWith(browser, path, provider);
  expect(started.status, started.text).toBe(303);
  return new URL(started.headers.location as string);
}

beforeAll(async () => {
  ({ app } = await createNotesTestApp());
  idp = await startUpstreamIdp({
    redirectUris: [CALLBACK],
    users: [{ sub: 'u-alice', email: 'alice@acme.test', email_verified: true, groups: ['eng'] }, { sub: 'u-mallory', email: 'mallory@acme.test', email_verified: true }],
  });
  other = await startUpstreamIdp({ redirectUris: [CALLBACK], clientId: idp.clientId, users: [{ sub: 'u-alice', email: 'alice@acme.test', email_verified: true }] });
  await addUpstream(app, idp, { name: 'acme', displayName: 'Acme SSO', domains: ['acme.test'] });
  await addUpstream(app, other, { name: 'other', displayName: 'Other IdP' });
  // Alice has signed in once already: her identity exists.
  expect((await federatedSignIn(app, app.browser(), idp, 'acme', 'u-alice')).answered.status).toBe(303);
}, 60_000);
afterAll(async () => {
  await idp?.close();
  await other?.close();
  await app?.close();
});

describe('state', () => {
  it('is single use: the same callback delivered again signs nobody in', async () => {
    const browser = app.browser();
    const { answered, callback } = await federatedSignIn(app, browser, idp, 'acme', 'u-alice');
    expect(answered.status).toBe(303);
    const before = await federatedLogins();
    const replay = await deliver(browser, callback);
    expect(replay.status).toBe(403);
    expect(replay.text).toContain('already used or has expired');
    expect(await federatedLogins()).toBe(before);
    expect((await lastAudit('federation.refused'))?.details).toMatchObject({ reason: 'state_unknown' });
  });

  it('is bound to the browser that left: an attacker\'s callback opened in the victim\'s browser signs no one in (login CSRF)', async () => {
    const attacker = app.browser();
    const callback = await idp.signInOverHttp((await leaveFor(attacker)).href, 'u-mallory');
    const victim = app.browser();
    await reachLoginPage(app, victim);
    const before = { logins: await federatedLogins(), sessions: await sessions() };
    const forced = await deliver(victim, callback);
    expect(forced.status).toBe(403);
    expect(forced.text).toContain('not started in this browser');
    expect(await federatedLogins()).toBe(before.logins);
    expect(await sessions()).toBe(before.sessions);
    expect((await lastAudit('federation.refused'))?.details).toMatchObject({ reason: 'state_not_this_browser', provider: 'acme' });
    // And the attacker's own browser cannot use it afterwards either: it was spent.
    expect((await deliver(attacker, callback)).status).toBe(403);
  });
});

describe('the ID token', () => {
  it('must carry the nonce of this attempt: a code obtained with another nonce is refused', async () => {
    const browser = app.browser();
    const upstream = await leaveFor(browser);
    // The attacker keeps our state and PKCE challenge but asks the provider for a nonce of their own.
    upstream.searchParams.set('nonce', 'attacker-chosen-nonce');
    const callback = await idp.signInOverHttp(upstream.href, 'u-alice');
    const before = await federatedLogins();
    const answered = await deliver(browser, callback);
    expect(answered.status).toBe(400);
    expect(answered.text).toContain('Acme SSO could not sign you in');
    expect(await federatedLogins()).toBe(before);
    const error = await lastAudit('federation.provider_error');
    expect(error?.details).toMatchObject({ provider: 'acme', stage: 'callback' });
    expect(String(error?.details.message)).toContain('nonce');
  });

  // An ID token for another audience at the provider (aud, azp), or naming another issuer, a provider of the
  // attacker's own answers with: test/federation/hostile-provider.test.ts.
  it('from another provider is refused (mix-up): its `iss` in the answer, or its code without one', async () => {
    // The attacker sends our authorization request (state, PKCE, nonce) to the other provider instead.
    const browser = app.browser();
    const upstream = await leaveFor(browser);
    const swapped = new URL(`${other.issuer}${upstream.pathname}${upstream.search}`);
    const callback = await other.signInOverHttp(swapped.href, 'u-alice');
    expect(callback.searchParams.get('iss')).toBe(other.issuer);
    const before = await federatedLogins();
    const withIss = await deliver(browser, callback);
    expect(withIss.status).toBe(400);
    expect(String((await lastAudit('federation.provider_error'))?.details.message)).toMatch(/iss/);

    const second = app.browser();
    const upstream2 = await leaveFor(second);
    const callback2 = await other.signInOverHttp(new URL(`${other.issuer}${upstream2.pathname}${upstream2.search}`).href, 'u-alice');
    callback2.searchParams.delete('iss');
    const withoutIss = await deliver(second, callback2);
    expect(withoutIss.status).toBe(400);
    expect(await federatedLogins()).toBe(before);
  });

  it('an upstream error answer is a page naming the provider, and an audit event', async () => {
    const browser = app.browser();
    const upstream = await leaveFor(browser);
    const answered = await browser.get(`/federation/callback?error=access_denied&state=${upstream.searchParams.get('state')}&iss=${encodeURIComponent(idp.issuer)}`);
    expect(answered.status).toBe(400);
    expect((await lastAudit('federation.provider_error'))?.details).toMatchObject({ provider: 'acme', upstream_error: 'access_denied' });
  });
});

describe('reaching the provider', () => {
  it('goes through the SSRF-safe fetch: a provider on a private address or a dead port is an audited provider error, never a 500', async () => {
    await addUpstream(app, idp, { name: 'internal', displayName: 'Internal', issuer: 'https://10.20.30.40' });
    await addUpstream(app, idp, { name: 'dead', displayName: 'Dead', issuer: 'http://127.0.0.1:9' });
    for (const [name, reason] of [['internal', 'forbidden_address'], ['dead', 'unreachable']] as const) {
      const browser = app.browser();
      const { path } = await reachLoginPage(app, browser);
      const started = await continueWith(browser, path, name);
      expect(started.status, started.text).toBe(400);
      expect(started.text).toContain('could not sign you in just now');
      expect((await lastAudit('federation.provider_error'))?.details).toMatchObject({ provider: name, stage: 'discovery', reason });
    }
    await app.db.query("DELETE FROM identity_providers WHERE name IN ('internal', 'dead')");
  });
});

describe('a disabled provider', () => {
  it('is not offered, cannot be started, and its identities cannot sign in, even mid-flight', async () => {
    const browser = app.browser();
    const upstream = await leaveFor(browser);
    await updateIdentityProvider(federationDeps(app), { name: 'acme', disabled: true }, CLI_OPERATOR);
    try {
      const callback = await idp.signInOverHttp(upstream.href, 'u-alice');
      const before = await federatedLogins();
      const midFlight = await deliver(browser, callback);
      expect(midFlight.status).toBe(403);
      expect(await federatedLogins()).toBe(before);
      expect((await lastAudit('federation.refused'))?.details).toMatchObject({ reason: 'provider_disabled', provider: 'acme' });

      const fresh = app.browser();
      const { page, path } = await reachLoginPage(app, fresh);
      expect(page.text).not.toContain('Continue with Acme SSO');
      expect((await continueWith(fresh, path, 'acme')).status).toBe(403);
      // Email routing does not go to it either.
      const csrf = csrfTokenOf((await fresh.get(path)).text);
      const typed = await fresh.post(`${path}/login`).type('form').send({ email: 'alice@acme.test', password: '', csrf });
      expect(typed.status).toBe(401);
    } finally {
      await updateIdentityProvider(federationDeps(app), { name: 'acme', disabled: false }, CLI_OPERATOR);
    }
  });
});

describe('"SSO only"', () => {
  it('refuses password sign-in for the domain by every route, an existing local account with the right password included', async () => {
    await addAccount(app.db, { email: 'local@acme.test', password: PASSWORD });
    await addAccount(app.db, { email: 'admin@acme.test', password: PASSWORD, isAdmin: true });
    await updateIdentityProvider(federationDeps(app), { name: 'acme', ssoOnly: true }, CLI_OPERATOR);
    try {
      // The authorization flow's form: to the provider, the password never looked at.
      const browser = app.browser();
      const { path } = await reachLoginPage(app, browser);
      const csrf = csrfTokenOf((await browser.get(path)).text);
      const viaFlow = await browser.post(`${path}/login`).type('form').send({ email: 'local@acme.test', password: PASSWORD, csrf });
      expect(viaFlow.status).toBe(303);
      expect(new URL(viaFlow.headers.location as string).origin).toBe(idp.issuer);

      for (const [page, action, email] of [['/account', '/account/login', 'local@acme.test'], ['/admin/login', '/admin/login', 'admin@acme.test']] as const) {
        const agent = app.browser();
        const token = csrfTokenOf((await agent.get(page)).text);
        // Another spelling of the domain is the same domain.
        const refused = await agent.post(action).type('form').send({ email: email.replace('acme.test', 'ACME.test'), password: PASSWORD, csrf: token });
        expect(refused.status, `${action}: ${refused.text.slice(0, 200)}`).toBe(403);
        expect(refused.text).toContain('sign in with Acme SSO');
        expect(String(refused.headers['set-cookie'] ?? '')).not.toMatch(/_session=/);
      }
      expect((await lastAudit('login.failed'))?.details).toMatchObject({ reason: 'sso_only', provider: 'acme' });

      // Disabling the provider does not reopen password sign-in for its domain.
      await updateIdentityProvider(federationDeps(app), { name: 'acme', disabled: true }, CLI_OPERATOR);
      const agent = app.browser();
      const token = csrfTokenOf((await agent.get('/account')).text);
      expect((await agent.post('/account/login').type('form').send({ email: 'local@acme.test', password: PASSWORD, csrf: token })).status).toBe(403);
      // Other domains keep their passwords.
      const otherUser = await app.addUser('someone@elsewhere.test');
      const fine = await agent.post('/account/login').type('form').send({ email: otherUser.email, password: PASSWORD, csrf: token });
      expect(fine.status).toBe(303);
    } finally {
      await updateIdentityProvider(federationDeps(app), { name: 'acme', ssoOnly: false, disabled: false }, CLI_OPERATOR);
    }
  });
});
