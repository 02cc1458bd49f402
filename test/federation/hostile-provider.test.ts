// ID tokens a hostile provider answers with (issue 12's mix-up rule and OIDC Core §3.1.3.7): one minted for
// another client (`aud`, `azp`), naming another issuer, without our nonce, expired, signed with a key the
// provider never published or not at all, and a UserInfo about someone else. Each is refused at the callback
// with an audited provider error and a 400 page: no session, no account, no identity written.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { startHostileIdp, type HostileIdp, type HostileUser, type IdTokenForgery } from '../helpers/hostile-idp.ts';
import { addUpstream, continueWith, deliver, reachLoginPage } from '../helpers/federation-flow.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { CALLBACK } from '../helpers/federation-flow.ts';

let app: TestApp;
let hostile: HostileIdp;
let honest: UpstreamIdp;

const count = async (sql: string, values: unknown[] = []) => Number((await app.db.query<{ n: string }>(sql, values)).rows[0]!.n);
const federatedLogins = () => count("SELECT count(*) AS n FROM audit_events WHERE event_type = 'login.succeeded' AND details->>'via' = 'federation'");
const sessions = () => count("SELECT count(*) AS n FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' IS NOT NULL");
const accountsWith = (email: string) => count('SELECT count(*) AS n FROM accounts WHERE email = $1', [email]);
const identitiesOf = (subject: string) => count(
  "SELECT count(*) AS n FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id WHERE p.name = 'hostile' AND f.subject = $1", [subject]);
const lastProviderError = async () => (await app.db.query<{ outcome: string; details: Record<string, unknown> }>(
  "SELECT outcome, details FROM audit_events WHERE event_type = 'federation.provider_error' ORDER BY occurred_at DESC, id DESC LIMIT 1")).rows[0];

const person = (slug: string): HostileUser => ({ sub: `h-${slug}`, email: `${slug}@hostile.test`, email_verified: true });

/** "Continue with Hostile IdP" in a fresh browser, the provider's answer delivered to our callback. */
async function signInThroughHostile(user: HostileUser) {
  const browser = app.browser();
  const { path } = await reachLoginPage(app, browser);
  const started = await continueWith(browser, path, 'hostile');
  expect(started.status, started.text).toBe(303);
  const callback = await hostile.signInOverHttp(started.headers.location as string, user);
  expect(callback.href.startsWith(`${CALLBACK}?`)).toBe(true);
  return deliver(browser, callback);
}

beforeAll(async () => {
  ({ app } = await createNotesTestApp());
  hostile = await startHostileIdp();
  // A real provider on loopback, whose issuer the hostile one may claim to be.
  honest = await startUpstreamIdp({ redirectUris: [CALLBACK], users: [] });
  await addUpstream(app, hostile, { name: 'hostile', displayName: 'Hostile IdP', domains: ['hostile.test'], scopes: ['openid', 'email', 'profile'] });
}, 60_000);
afterEach(() => { hostile.forge = {}; });
afterAll(async () => {
  await honest?.close();
  await hostile?.close();
  await app?.close();
});

describe('a provider answering honestly (the control)', () => {
  it('signs its person in, creating the account and the identity', async () => {
    const answered = await signInThroughHostile(person('honest'));
    expect(answered.status, answered.text).toBe(303);
    expect(await accountsWith('honest@hostile.test')).toBe(1);
    expect(await identitiesOf('h-honest')).toBe(1);
  });
});

const later = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

const forgeries: Array<[string, string, IdTokenForgery, RegExp]> = [
  ['an ID token minted for another client (aud) is refused: the audience mix-up', 'other-aud',
    { claims: (c) => ({ ...c, aud: 'someone-elses-client' }) }, /"aud"/],
  ['an ID token for several audiences, authorized for another party (azp), is refused', 'other-azp',
    { claims: (c) => ({ ...c, aud: ['someone-elses-client', String(c.aud)], azp: 'someone-elses-client' }) }, /"azp"/],
  ['an ID token for several audiences naming no authorized party is refused', 'extra-aud',
    { claims: (c) => ({ ...c, aud: [String(c.aud), 'someone-elses-client'] }) }, /untrusted audiences/],
  ['an ID token naming another issuer is refused, even with the right `iss` on the answer', 'other-iss',
    { claims: (c) => ({ ...c, iss: honest.issuer }) }, /"iss"/],
  ['an ID token without the nonce of this attempt is refused', 'no-nonce',
    { claims: ({ nonce: _nonce, ...c }: JWTPayload) => c }, /nonce/],
  ['an expired ID token is refused', 'expired',
    { claims: (c) => ({ ...c, iat: later(-900), exp: later(-600) }) }, /"exp"/],
  ['an ID token signed with a key the provider never published is refused', 'stranger-key',
    { key: 'stranger' }, /signature/i],
  ['an unsigned ID token (alg none) is refused', 'alg-none',
    { key: 'none' }, /alg/],
  ['a UserInfo answer about another subject than the ID token is refused', 'userinfo-sub',
    { userinfo: (u) => ({ ...u, sub: 'h-someone-else' }) }, /sub/],
];

describe('forged ID tokens from a hostile provider', () => {
  it.each(forgeries)('%s', async (_title, slug, forgery, failedCheck) => {
    hostile.forge = forgery;
    const user = person(slug);
    const before = { logins: await federatedLogins(), sessions: await sessions(), tokens: hostile.tokenResponses() };
    const answered = await signInThroughHostile(user);
    // The provider was asked and answered: the refusal is ours.
    expect(hostile.tokenResponses()).toBe(before.tokens + 1);
    expect(answered.status, answered.text.slice(0, 300)).toBe(400);
    expect(answered.text).toContain('Hostile IdP could not sign you in');
    expect(String(answered.headers['set-cookie'] ?? '')).not.toMatch(/_session=/);
    const audited = await lastProviderError();
    expect(audited?.outcome).toBe('failure');
    expect(audited?.details).toMatchObject({ provider: 'hostile', stage: 'callback' });
    expect(String(audited?.details.message)).toMatch(failedCheck);
    expect(await federatedLogins()).toBe(before.logins);
    expect(await sessions()).toBe(before.sessions);
    expect(await accountsWith(user.email)).toBe(0);
    expect(await identitiesOf(user.sub)).toBe(0);
  });
});
