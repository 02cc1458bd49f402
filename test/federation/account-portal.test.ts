// /account for people who sign in through an identity provider: linked identities listed, unlinking only while
// another way to sign in remains, sign-out offering the provider's RP-initiated logout, no upstream token kept,
// and `idp update --disable` ending its people's sessions (--end-sessions) and grants (--end-grants).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/accounts/store.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { updateIdentityProvider } from '../../src/federation/service.ts';
import { createNotesTestApp, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { addUpstream, CALLBACK, federatedSignIn, federationDeps } from '../helpers/federation-flow.ts';
import { csrfTokenOf, decide, pathOf } from '../helpers/oauth-flow.ts';

let app: TestApp;
let idp: UpstreamIdp;
let providerId: string;

const grantsOf = async (email: string) => Number((await app.db.query<{ n: string }>(
  `SELECT count(*) AS n FROM oidc_models g JOIN accounts a ON a.id = g.payload->>'accountId' WHERE g.model = 'Grant' AND a.email = $1`, [email])).rows[0]!.n);

/** Signs `sub` in through the provider and approves the consent page: a session and a grant. */
async function signedInWithGrant(sub: string) {
  const browser = app.browser();
  const { answered, next } = await federatedSignIn(app, browser, idp, 'acme', sub);
  expect(answered.status, answered.text).toBe(303);
  const consent = await next();
  await decide(browser, new URL(consent.request.url).pathname, 'approve');
  return browser;
}

beforeAll(async () => {
  ({ app } = await createNotesTestApp());
  idp = await startUpstreamIdp({
    redirectUris: [CALLBACK],
    users: [
      { sub: 'u-jit', email: 'jit@acme.test', email_verified: true },
      { sub: 'u-pw', email: 'pw@acme.test', email_verified: true },
      { sub: 'u-gone', email: 'gone@acme.test', email_verified: true },
    ],
  });
  providerId = (await addUpstream(app, idp, { name: 'acme', displayName: 'Acme SSO', domains: ['acme.test'] })).id;
  await addAccount(app.db, { email: 'pw@acme.test', password: PASSWORD });
}, 60_000);
afterAll(async () => {
  await idp?.close();
  await app?.close();
});

describe('/account with linked identities', () => {
  it('lists the identity, and refuses to unlink the only way an account created by sign-in has', async () => {
    const browser = await signedInWithGrant('u-jit');
    const page = await browser.get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Linked identities');
    expect(page.text).toMatch(/<strong>Acme SSO<\/strong> as jit@acme.test/);
    const refused = await browser.post('/account/identities/unlink').type('form').send({ provider_id: providerId, csrf: csrfTokenOf(page.text) });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('only way you can sign in');
    expect((await app.db.query("SELECT 1 FROM federated_identities WHERE subject = 'u-jit'")).rows).toHaveLength(1);
    // Nothing of the round trip is kept: the attempt is spent, no upstream token is anywhere.
    expect((await app.db.query('SELECT 1 FROM federation_sign_in_attempts')).rows).toHaveLength(0);
    const { rows: [claims] } = await app.db.query<{ claims: Record<string, unknown> }>("SELECT claims FROM federated_identities WHERE subject = 'u-jit'");
    expect(Object.keys(claims!.claims)).not.toEqual(expect.arrayContaining(['access_token']));
    expect(Object.keys(claims!.claims).some((k) => /token/.test(k))).toBe(false);
  });

  it('unlinks while a password remains, audited with the provider; not when the domain is SSO only', async () => {
    const browser = await signedInWithGrant('u-pw');
    await updateIdentityProvider(federationDeps(app), { name: 'acme', ssoOnly: true }, CLI_OPERATOR);
    let page = await browser.get('/account');
    const refused = await browser.post('/account/identities/unlink').type('form').send({ provider_id: providerId, csrf: csrfTokenOf(page.text) });
    expect(refused.status).toBe(409);
    await updateIdentityProvider(federationDeps(app), { name: 'acme', ssoOnly: false }, CLI_OPERATOR);
    page = await browser.get('/account');
    const unlinked = await browser.post('/account/identities/unlink').type('form').send({ provider_id: providerId, csrf: csrfTokenOf(page.text) });
    expect(unlinked.status).toBe(303);
    expect((await app.db.query("SELECT 1 FROM federated_identities WHERE subject = 'u-pw'")).rows).toHaveLength(0);
    const { rows: [event] } = await app.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_events WHERE event_type = 'federation.unlinked' ORDER BY occurred_at DESC LIMIT 1");
    expect(event?.details).toMatchObject({ provider: 'acme', subject: 'u-pw' });
    // Someone else's, or no identity: 404.
    const again = await browser.post('/account/identities/unlink').type('form').send({ provider_id: providerId, csrf: csrfTokenOf(page.text) });
    expect(again.status).toBe(404);
  });

  it('signs out here and offers the provider\'s own sign-out (its end_session_endpoint)', async () => {
    const browser = await signedInWithGrant('u-jit');
    const page = await browser.get('/account');
    const out = await browser.post('/account/logout').type('form').send({ csrf: csrfTokenOf(page.text) });
    expect(out.status).toBe(303);
    const after = await browser.get(pathOf(out.headers.location as string));
    expect(after.text).toContain('You are signed out');
    const href = /href="([^"]+)"[^>]*>Sign out of Acme SSO too/.exec(after.text)?.[1]?.replaceAll('&amp;', '&');
    expect(href).toBeDefined();
    expect(new URL(href!).href.startsWith(`${idp.issuer}/session/end`)).toBe(true);
    expect(new URL(href!).searchParams.get('client_id')).toBe(idp.clientId);
    // Signed out here: /account asks to sign in again.
    expect((await browser.get('/account')).text).toContain('name="password"');
  });
});

describe('signing in at /account with a provider', () => {
  it('"Continue with" at /account signs the browser in there, with no application involved', async () => {
    const browser = app.browser();
    const login = await browser.get('/account');
    expect(login.text).toMatch(/<button type="submit">Continue with Acme SSO<\/button>/);
    const started = await browser.post('/account/federation').type('form').send({ provider: 'acme', csrf: csrfTokenOf(login.text) });
    expect(started.status).toBe(303);
    const callback = await idp.signInOverHttp(started.headers.location as string, 'u-jit');
    const answered = await browser.get(`${callback.pathname}${callback.search}`);
    expect(answered.status, answered.text).toBe(303);
    expect(answered.headers.location).toBe('/account?status=signed-in');
    const page = await browser.get('/account');
    expect(page.text).toContain('Signed in as <strong>jit@acme.test</strong>');
    expect(page.text).toContain('Signed in through identity provider acme');
    // Someone else's callback opened here signs no one in (login CSRF), at /account too.
    const attacker = app.browser();
    const attackerLogin = await attacker.get('/account');
    const attackerStart = await attacker.post('/account/federation').type('form').send({ provider: 'acme', csrf: csrfTokenOf(attackerLogin.text) });
    const forged = await idp.signInOverHttp(attackerStart.headers.location as string, 'u-gone');
    const victim = app.browser();
    const refused = await victim.get(`${forged.pathname}${forged.search}`);
    expect(refused.status).toBe(403);
    expect((await victim.get('/account')).text).toContain('name="password"');
  });
});

describe('disabling a provider', () => {
  it('--end-sessions signs its people out everywhere and keeps grants; --end-grants ends those too', async () => {
    const browser = await signedInWithGrant('u-gone');
    expect(await grantsOf('gone@acme.test')).toBe(1);
    const disabled = await updateIdentityProvider(federationDeps(app), { name: 'acme', disabled: true, endSessions: true }, CLI_OPERATOR);
    expect(disabled.disabledAt).not.toBeNull();
    expect((await browser.get('/account')).text).toContain('name="password"');
    expect(await grantsOf('gone@acme.test')).toBe(1);
    await updateIdentityProvider(federationDeps(app), { name: 'acme', disabled: true, endGrants: true }, CLI_OPERATOR);
    expect(await grantsOf('gone@acme.test')).toBe(0);
    const { rows: [event] } = await app.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_events WHERE event_type = 'identity_provider.updated' ORDER BY occurred_at DESC LIMIT 1");
    // Every grant of every account linked to it: gone's one and jit's two (two applications, above).
    expect(event?.details).toMatchObject({ name: 'acme', grants_ended: 3 });
    expect(await grantsOf('jit@acme.test')).toBe(0);
    // Without --disable the flags mean nothing and are refused.
    await expect(updateIdentityProvider(federationDeps(app), { name: 'acme', endSessions: true }, CLI_OPERATOR)).rejects.toThrow(/go with --disable/);
    await updateIdentityProvider(federationDeps(app), { name: 'acme', disabled: false }, CLI_OPERATOR);
  });
});
