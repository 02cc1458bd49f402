// Federated sign-in over HTTP against a real upstream oidc-provider on loopback: "Continue with …", email
// routing, first-time account creation, linking by an authoritative provider and the refused linkings, an
// email claim that changes later, and the claims kept for consent policies. Each refusal tries to break it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/accounts/store.ts';
import { createNotesTestApp, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { addUpstream, CALLBACK, continueWith, deliver, federatedSignIn, reachLoginPage } from '../helpers/federation-flow.ts';
import { csrfTokenOf } from '../helpers/oauth-flow.ts';

let app: TestApp;
let idp: UpstreamIdp;
let other: UpstreamIdp;

const identityOf = async (sub: string) => (await app.db.query<{ account_id: string; email: string; claims: Record<string, unknown> }>(
  `SELECT f.account_id, f.email, f.claims FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id
   WHERE p.name = 'acme' AND f.subject = $1`, [sub])).rows[0];
const auditOf = async (type: string) => (await app.db.query<{ account_id: string | null; outcome: string; details: Record<string, unknown> }>(
  'SELECT account_id, outcome, details FROM audit_events WHERE event_type = $1 ORDER BY occurred_at', [type])).rows;
const accountByEmail = async (email: string) => (await app.db.query<{ id: string; password_hash: string | null }>(
  'SELECT id, password_hash FROM accounts WHERE email = $1', [email])).rows[0];

beforeAll(async () => {
  ({ app } = await createNotesTestApp());
  idp = await startUpstreamIdp({
    redirectUris: [CALLBACK],
    users: [
      { sub: 'u-alice', email: 'alice@acme.test', email_verified: true, name: 'Alice', groups: ['eng', 'ops'] },
      { sub: 'u-bob', email: 'bob@acme.test', email_verified: true, groups: [] },
      { sub: 'u-carol', email: 'carol@acme.test', email_verified: true },
      { sub: 'u-erin', email: 'erin@acme.test', email_verified: false },
      { sub: 'u-dave', email: 'dave@elsewhere.test', email_verified: true },
      { sub: 'u-frank', email: 'frank@acme.test', email_verified: false },
    ],
  });
  other = await startUpstreamIdp({ redirectUris: [CALLBACK], users: [{ sub: 'o-zed', email: 'zed@other.test', email_verified: true }] });
  await addUpstream(app, idp, { name: 'acme', displayName: 'Acme SSO', domains: ['acme.test'] });
  await addUpstream(app, other, { name: 'other', displayName: 'Other IdP', domains: ['other.test'] });
  await addAccount(app.db, { email: 'carol@acme.test', password: PASSWORD });
  await addAccount(app.db, { email: 'erin@acme.test', password: PASSWORD });
  await addAccount(app.db, { email: 'dave@elsewhere.test', password: PASSWORD });
}, 60_000);
afterAll(async () => {
  await idp?.close();
  await other?.close();
  await app?.close();
});

describe('the sign-in page', () => {
  it('offers a "Continue with" button per enabled provider', async () => {
    const { page } = await reachLoginPage(app, app.browser());
    expect(page.text).toMatch(/<button type="submit">Continue with Acme SSO<\/button>/);
    expect(page.text).toMatch(/<button type="submit">Continue with Other IdP<\/button>/);
  });

  it('routes an email whose domain is bound to a provider straight to it, with the address as login_hint', async () => {
    const browser = app.browser();
    const { path } = await reachLoginPage(app, browser);
    const csrf = csrfTokenOf((await browser.get(path)).text);
    // The domain in another spelling (case, trailing dot) is the same domain.
    const routed = await browser.post(`${path}/login`).type('form').send({ email: 'Bob@ACME.test.', password: '', csrf });
    expect(routed.status).toBe(303);
    const upstream = new URL(routed.headers.location as string);
    expect(upstream.origin).toBe(idp.issuer);
    expect(upstream.searchParams.get('login_hint')).toBe('Bob@ACME.test.');
    expect(upstream.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(upstream.searchParams.get('code_challenge_method')).toBe('S256');
    expect(upstream.searchParams.get('nonce')).toEqual(expect.any(String));
    expect(upstream.searchParams.get('state')).toEqual(expect.any(String));
    // An unbound domain with no password is simply a failed password sign-in.
    const local = await browser.post(`${path}/login`).type('form').send({ email: 'nobody@unbound.test', password: '', csrf });
    expect(local.status).toBe(401);
  });
});

describe('accounts', () => {
  it('creates the account on first sign-in, keeps groups and string claims, and reaches consent', async () => {
    const browser = app.browser();
    const { answered, next } = await federatedSignIn(app, browser, idp, 'acme', 'u-alice');
    expect(answered.status, answered.text).toBe(303);
    expect(answered.headers.location).toMatch(/^http:\/\/localhost:4000\/auth\//);
    const consent = await next();
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('name="decision"');
    const account = await accountByEmail('alice@acme.test');
    expect(account?.password_hash).toBeNull();
    const identity = await identityOf('u-alice');
    expect(identity?.account_id).toBe(account!.id);
    expect(identity?.claims).toMatchObject({ groups: ['eng', 'ops'], email: 'alice@acme.test', name: 'Alice', sub: 'u-alice' });
    // Booleans and numbers are not kept: only strings and arrays of strings.
    expect(identity?.claims).not.toHaveProperty('email_verified');
    expect(identity?.claims).not.toHaveProperty('iat');
    const created = (await auditOf('account.created')).find((e) => e.account_id === account!.id);
    expect(created?.details).toMatchObject({ via: 'federation', provider: 'acme' });
    const login = (await auditOf('login.succeeded')).find((e) => e.account_id === account!.id);
    expect(login?.details).toMatchObject({ via: 'federation', provider: 'acme', created: true });
  });

  it('stores groups as [] when the provider sends none', async () => {
    const { answered } = await federatedSignIn(app, app.browser(), idp, 'acme', 'u-bob');
    expect(answered.status, answered.text).toBe(303);
    expect((await identityOf('u-bob'))?.claims.groups).toEqual([]);
  });

  it('links an existing local account when the provider is authoritative for its domain and the email is verified', async () => {
    const carol = await accountByEmail('carol@acme.test');
    const { answered } = await federatedSignIn(app, app.browser(), idp, 'acme', 'u-carol');
    expect(answered.status, answered.text).toBe(303);
    expect((await identityOf('u-carol'))?.account_id).toBe(carol!.id);
    expect((await auditOf('federation.linked')).at(-1)).toMatchObject({ account_id: carol!.id, details: { provider: 'acme', subject: 'u-carol' } });
  });

  it('refuses to link an existing account when the email is not verified (no takeover)', async () => {
    const { answered } = await federatedSignIn(app, app.browser(), idp, 'acme', 'u-erin');
    expect(answered.status).toBe(403);
    expect(answered.text).toContain('not verified');
    expect(await identityOf('u-erin')).toBeUndefined();
    expect((await auditOf('federation.refused')).at(-1)?.details).toMatchObject({ provider: 'acme', reason: 'email_not_verified' });
  });

  it('refuses to link an existing account in a domain the provider is not authoritative for, even with a verified email', async () => {
    const { answered } = await federatedSignIn(app, app.browser(), idp, 'acme', 'u-dave');
    expect(answered.status).toBe(403);
    expect(await identityOf('u-dave')).toBeUndefined();
    expect((await auditOf('federation.refused')).at(-1)?.details).toMatchObject({ provider: 'acme', reason: 'not_authoritative' });
  });

  it('creates no account for an unverified email', async () => {
    const { answered } = await federatedSignIn(app, app.browser(), idp, 'acme', 'u-frank');
    expect(answered.status).toBe(403);
    expect(await accountByEmail('frank@acme.test')).toBeUndefined();
  });

  it('keeps the identity on its account when the provider later claims another (existing) email', async () => {
    const alice = await accountByEmail('alice@acme.test');
    const carol = await accountByEmail('carol@acme.test');
    idp.updateUser('u-alice', { email: 'carol@acme.test', groups: ['eng'] });
    try {
      const { answered } = await federatedSignIn(app, app.browser(), idp, 'acme', 'u-alice');
      expect(answered.status, answered.text).toBe(303);
      const identity = await identityOf('u-alice');
      expect(identity?.account_id).toBe(alice!.id);
      expect(identity?.email).toBe('carol@acme.test');
      expect(identity?.claims.groups).toEqual(['eng']);
      const logins = (await auditOf('login.succeeded')).filter((e) => e.details.via === 'federation');
      expect(logins.at(-1)?.account_id).toBe(alice!.id);
      expect(logins.at(-1)?.account_id).not.toBe(carol!.id);
    } finally {
      idp.updateUser('u-alice', { email: 'alice@acme.test', groups: ['eng', 'ops'] });
    }
  });

  it('does not create accounts when the provider says --no-create-accounts', async () => {
    await app.db.query("UPDATE identity_providers SET create_accounts = false WHERE name = 'other'");
    try {
      const { answered } = await federatedSignIn(app, app.browser(), other, 'other', 'o-zed');
      expect(answered.status).toBe(403);
      expect(await accountByEmail('zed@other.test')).toBeUndefined();
      expect((await auditOf('federation.refused')).at(-1)?.details).toMatchObject({ provider: 'other', reason: 'account_creation_off' });
    } finally {
      await app.db.query("UPDATE identity_providers SET create_accounts = true WHERE name = 'other'");
    }
  });
});

describe('the callback', () => {
  it('answers a callback without our state with a 403 page, never a 500', async () => {
    const response = await app.browser().get('/federation/callback?code=abc');
    expect(response.status).toBe(403);
    const forged = await app.browser().get('/federation/callback?code=abc&state=made-up');
    expect(forged.status).toBe(403);
  });

  it('continues with a provider only on the login step', async () => {
    const browser = app.browser();
    const { path } = await reachLoginPage(app, browser);
    const unknown = await continueWith(browser, path, 'nope');
    expect(unknown.status).toBe(404);
    void deliver;
  });
});
