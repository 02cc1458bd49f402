// The grants portal's list and revocation: what a person sees of each grant, that revoking kills the
// grant and its tokens at once (refresh, introspection, audit), and that nobody revokes another's grant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, refresh } from '../helpers/oauth-flow.ts';
import { connectClient, postAccountForm, revocableGrantIds, rowsOfGrant } from '../helpers/portal.ts';
import { addOperatorClient } from '../../src/clients/store.ts';
import { revokeGrantOfAccount } from '../../src/grants/service.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { refreshTokenState } from '../helpers/refresh-token-state.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;

beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => app?.close());

async function person() {
  const { id, email } = await app.addUser();
  return { id, email, browser: app.browser() };
}

async function accountPage(browser: ReturnType<TestApp['browser']>) {
  await flushAuditWrites();
  const page = await browser.get('/account');
  expect(page.status).toBe(200);
  return page.text;
}


describe('the list of grants', () => {
  it('shows each grant with its client, identity source, resource, scopes and their risk', async () => {
    const alice = await person();
    const notes = await connectClient(app, alice.browser, alice.email, {
      resource: NOTES, scope: 'notes:read notes:write', approve: ['notes:read', 'notes:write'],
      metadata: { client_name: 'Notes Desktop' },
    });
    const page = await accountPage(alice.browser);
    expect(page).toContain('Notes Desktop');
    expect(page).toContain('Self-registered: nobody has verified who runs this application');
    expect(page).toContain('Notes MCP');
    expect(page).toContain(NOTES);
    expect(page).toMatch(/<li class="risk-read"><span class="badge">read<\/span> <code>notes:read<\/code>/);
    expect(page).toMatch(/<li class="risk-write"><span class="badge">write<\/span> <code>notes:write<\/code>/);
    // Not granted, so not shown.
    expect(page).not.toContain('notes:delete');
    expect(revocableGrantIds(page)).toEqual([notes.grantId]);
    expect(page).toMatch(/First granted<\/dt><dd><time datetime="\d{4}-/);
    expect(page).toMatch(/Last used<\/dt><dd><time datetime="\d{4}-/);
    expect(page).toContain('Last refresh</dt><dd>Never');

    expect((await refresh(app, { client_id: notes.clientId, refresh_token: notes.refreshToken })).status).toBe(200);
    expect(await accountPage(alice.browser)).toMatch(/Last refresh<\/dt><dd><time datetime="\d{4}-/);
  });

  it('says who vouches for an operator-registered client', async () => {
    const alice = await person();
    const { clientId } = await addOperatorClient(app.db, { name: 'Company Assistant', redirectUris: [REDIRECT_URI] });
    await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', clientId });
    const page = await accountPage(alice.browser);
    expect(page).toContain('Company Assistant');
    expect(page).toContain('Pre-registered by the operator of this server');
    expect(page).not.toContain('Self-registered');
  });

  it('explains an empty list in words, and lists nobody else\'s grants', async () => {
    const alice = await person();
    await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', metadata: { client_name: 'Alice Only App' } });
    const bob = await person();
    await connectClient(app, bob.browser, bob.email, { resource: NOTES, scope: 'notes:read' });
    await app.db.query("DELETE FROM oidc_models WHERE model = 'Grant' AND payload->>'accountId' = $1", [bob.id]);
    const page = await accountPage(bob.browser);
    expect(page).toContain('No application has access to your account right now');
    expect(page).not.toContain('Alice Only App');
    expect(revocableGrantIds(page)).toEqual([]);
  });

  it('shows a client named like markup as text', async () => {
    const alice = await person();
    await connectClient(app, alice.browser, alice.email, {
      resource: NOTES, scope: 'notes:read', metadata: { client_name: '<script>alert(1)</script>' },
    });
    const page = await accountPage(alice.browser);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
  });

  it('is never cached', async () => {
    const alice = await person();
    await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read' });
    expect((await alice.browser.get('/account')).headers['cache-control']).toBe('no-store');
  });
});

describe('revoking a grant', () => {
  it('removes the grant and its tokens at once: refresh fails, introspection says inactive, audit records it', async () => {
    const alice = await person();
    const notes = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read' });
    expect((await refreshTokenState(app, notes.refreshToken)).active).toBe(true);

    const response = await postAccountForm(alice.browser, '/account/grants/revoke', { grant_id: notes.grantId });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account?status=grant-revoked');

    expect(await rowsOfGrant(app, notes.grantId)).toBe(0);
    const refused = await refresh(app, { client_id: notes.clientId, refresh_token: notes.refreshToken });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(await refreshTokenState(app, notes.refreshToken)).toEqual({ active: false });

    const { rows } = await app.db.query<{ account_id: string; client_id: string; details: Record<string, unknown> }>(
      "SELECT account_id, client_id, details FROM audit_events WHERE event_type = 'grant.revoked' AND details->>'grant_id' = $1",
      [notes.grantId]);
    expect(rows).toEqual([{ account_id: alice.id, client_id: notes.clientId, details: { grant_id: notes.grantId, revoked_by: 'account' } }]);

    const page = (await alice.browser.get(response.headers.location as string)).text;
    expect(page).toContain('Access revoked.');
    expect(revocableGrantIds(page)).toEqual([]);
  });

  it('ends a grant revoked twice at once exactly once: one revocation, one audit event, nothing left', async () => {
    const alice = await person();
    const notes = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read' });
    const [first, second] = await Promise.all([
      revokeGrantOfAccount(app.provider, app.db, alice.id, notes.grantId),
      revokeGrantOfAccount(app.provider, app.db, alice.id, notes.grantId),
    ]);
    expect([first, second].sort()).toEqual([false, true]);
    expect(await rowsOfGrant(app, notes.grantId)).toBe(0);
    const { rows } = await app.db.query<{ actor_type: string; actor_id: string }>(
      "SELECT actor_type, actor_id FROM audit_events WHERE event_type = 'grant.revoked' AND details->>'grant_id' = $1", [notes.grantId]);
    expect(rows).toEqual([{ actor_type: 'user', actor_id: alice.id }]);
  });

  it('asks for consent again on the client\'s next authorization', async () => {
    const alice = await person();
    const notes = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read' });
    await postAccountForm(alice.browser, '/account/grants/revoke', { grant_id: notes.grantId });
    const again = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', clientId: notes.clientId });
    expect(again.grantId).not.toBe(notes.grantId);
    const { rows } = await app.db.query(
      "SELECT 1 FROM audit_events WHERE event_type = 'consent.granted' AND client_id = $1", [notes.clientId]);
    expect(rows).toHaveLength(2);
  });

  it('refuses another account\'s grant with 404 and changes nothing', async () => {
    const victim = await person();
    const target = await connectClient(app, victim.browser, victim.email, { resource: NOTES, scope: 'notes:read' });
    const attacker = await person();
    await connectClient(app, attacker.browser, attacker.email, { resource: NOTES, scope: 'notes:read' });
    const before = await rowsOfGrant(app, target.grantId);

    const response = await postAccountForm(attacker.browser, '/account/grants/revoke', { grant_id: target.grantId });
    expect(response.status).toBe(404);
    expect(await rowsOfGrant(app, target.grantId)).toBe(before);
    expect((await refresh(app, { client_id: target.clientId, refresh_token: target.refreshToken })).status).toBe(200);
    const { rows } = await app.db.query(
      "SELECT 1 FROM audit_events WHERE event_type = 'grant.revoked' AND details->>'grant_id' = $1", [target.grantId]);
    expect(rows).toEqual([]);
  });

  it('does nothing for a browser that is not signed in, or a form without its anti-forgery field', async () => {
    const alice = await person();
    const notes = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read' });
    const stranger = app.browser();
    const anonymous = await postAccountForm(stranger, '/account/grants/revoke', { grant_id: notes.grantId });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe('/account');
    const forged = await alice.browser.post('/account/grants/revoke').type('form').send({ grant_id: notes.grantId });
    expect(forged.status).toBe(403);
    expect(await rowsOfGrant(app, notes.grantId)).toBeGreaterThan(0);
  });

  it('rejects a malformed form with 400, not a server error', async () => {
    const alice = await person();
    await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read' });
    expect((await postAccountForm(alice.browser, '/account/grants/revoke', {})).status).toBe(400);
    expect((await postAccountForm(alice.browser, '/account/clients/revoke', { client_id: 'x'.repeat(5000) })).status).toBe(400);
  });
});

describe('revoking every grant of a client', () => {
  it('revokes all of the person\'s grants to that client and leaves other clients alone', async () => {
    const alice = await person();
    const laptop = app.browser();
    const first = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', metadata: { client_name: 'Twice Connected' } });
    // Another browser of the same person: a second grant to the same client.
    await connectClient(app, laptop, alice.email, { resource: NOTES, scope: 'notes:read', clientId: first.clientId });
    const other = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', metadata: { client_name: 'Other App' } });
    const page = await accountPage(alice.browser);
    expect(page).toContain('Revoke all access of Twice Connected');
    expect(revocableGrantIds(page)).toHaveLength(3);

    const response = await postAccountForm(alice.browser, '/account/clients/revoke', { client_id: first.clientId });
    expect(response.status).toBe(303);
    const { rows } = await app.db.query(
      "SELECT id FROM oidc_models WHERE model IN ('Grant', 'RefreshToken') AND payload->>'clientId' = $1", [first.clientId]);
    expect(rows).toEqual([]);
    expect(revocableGrantIds(await accountPage(alice.browser))).toEqual([other.grantId]);
    const audit = await app.db.query(
      "SELECT 1 FROM audit_events WHERE event_type = 'grant.revoked' AND client_id = $1 AND account_id = $2", [first.clientId, alice.id]);
    expect(audit.rows).toHaveLength(2);
  });

  it('answers 404 for a client the person never connected', async () => {
    const victim = await person();
    const target = await connectClient(app, victim.browser, victim.email, { resource: NOTES, scope: 'notes:read' });
    const attacker = await person();
    await connectClient(app, attacker.browser, attacker.email, { resource: NOTES, scope: 'notes:read' });
    const response = await postAccountForm(attacker.browser, '/account/clients/revoke', { client_id: target.clientId });
    expect(response.status).toBe(404);
    expect(await rowsOfGrant(app, target.grantId)).toBeGreaterThan(0);
  });
});

describe('recent security events', () => {
  it('lists consents, revocations and replays in plain words, newest first', async () => {
    const alice = await person();
    const notes = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', metadata: { client_name: 'Event App' } });
    // A refresh token replayed after its grace window: the grant is revoked on the token endpoint.
    const rotated = await refresh(app, { client_id: notes.clientId, refresh_token: notes.refreshToken });
    expect(rotated.status).toBe(200);
    await app.db.query("UPDATE oidc_models SET consumed_at = consumed_at - interval '1 hour' WHERE model = 'RefreshToken' AND grant_id = $1", [notes.grantId]);
    expect((await refresh(app, { client_id: notes.clientId, refresh_token: notes.refreshToken })).status).toBe(400);
    const denied = await connectClient(app, alice.browser, alice.email, { resource: NOTES, scope: 'notes:read', metadata: { client_name: 'Second App' } });
    await postAccountForm(alice.browser, '/account/grants/revoke', { grant_id: denied.grantId });

    const page = await accountPage(alice.browser);
    const events = page.slice(page.indexOf('id="events-heading"'));
    const revoked = events.indexOf('You revoked the access of Second App');
    const replay = events.indexOf('An old refresh token of Event App was used again');
    const allowed = events.indexOf('Allowed Event App access at https://mcp.example.com/mcp (notes:read)');
    expect(revoked).toBeGreaterThan(0);
    expect(replay).toBeGreaterThan(revoked);
    expect(allowed).toBeGreaterThan(replay);
    expect(events).toContain('Signed in to authorize Event App');
  });
});
