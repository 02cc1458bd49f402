// Clients and accounts through the console and the admin API, end to end: disabling and deleting a
// client, creating, disabling and re-enabling an account (which ends its sessions and grants at once),
// resetting a password; each recorded in the audit trail with the admin as actor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refresh } from '../helpers/oauth-flow.ts';
import { connectClient, signInToPortal } from '../helpers/portal.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import { createAdminTestApp, followConsole, postConsoleForm, signInToConsole, type AdminTestApp } from './helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: AdminTestApp;

const lastEvent = async (type: string) => (await app.db.query<{ account_id: string | null; client_id: string | null; details: Record<string, unknown> }>(
  'SELECT account_id, client_id, details FROM audit_events WHERE event_type = $1 ORDER BY id DESC LIMIT 1', [type])).rows[0];

beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => { await app?.close(); });

describe('clients', () => {
  it('lists each client with identity source, first seen, last used and grants; disables and re-enables it from the console', async () => {
    const connected = await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
    const browser = await app.adminBrowser();
    const page = await browser.get('/admin/clients');
    expect(page.text).toContain(connected.clientId);
    expect(page.text).toContain('Self-registered');
    const listed = (await app.api().get('/admin/api/clients')).body.clients.find((c: { client_id: string }) => c.client_id === connected.clientId);
    expect(listed).toMatchObject({ source: 'dynamic_registration', status: 'active', grants: 1, replays_last_30_days: 0 });
    expect(listed.first_seen_at).not.toBeNull();
    expect(listed.last_used_at).not.toBeNull();

    const disabled = await followConsole(browser, await postConsoleForm(browser, '/admin/clients/disable', { client_id: connected.clientId }));
    expect(disabled.text).toContain('Client disabled');
    expect(await lastEvent('client.disabled')).toMatchObject({ client_id: connected.clientId, details: { actor: app.admin.id, grants_revoked: 1 } });
    const refused = await refresh(app, { client_id: connected.clientId, refresh_token: connected.refreshToken });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');

    const enabled = await app.api().post(`/admin/api/clients/${connected.clientId}/enable`);
    expect(enabled.body).toMatchObject({ status: 'active', changed: true });
    expect(await lastEvent('client.enabled')).toMatchObject({ details: { actor: expect.stringMatching(/^admin_token:/), via: 'api' } });
  });

  it('deletes a client through the API and the console; an unknown client is a 404 with a stable code', async () => {
    const viaApi = await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
    const deleted = await app.api().delete(`/admin/api/clients/${viaApi.clientId}`);
    expect(deleted.body).toMatchObject({ client_id: viaApi.clientId, deleted: true, grants_revoked: 1 });
    const again = await app.api().delete(`/admin/api/clients/${viaApi.clientId}`);
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('client_not_found');
    expect((await refresh(app, { client_id: viaApi.clientId, refresh_token: viaApi.refreshToken })).body.error).toBe('invalid_client');

    const viaPage = await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
    const browser = await app.adminBrowser();
    expect((await followConsole(browser, await postConsoleForm(browser, '/admin/clients/delete', { client_id: viaPage.clientId }))).text)
      .toContain('Client deleted');
    expect(await lastEvent('client.deleted')).toMatchObject({ client_id: viaPage.clientId, details: { actor: app.admin.id } });
    const missing = await postConsoleForm(browser, '/admin/clients/delete', { client_id: viaPage.clientId });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain(`no registered client with id ${viaPage.clientId}`);
  });
});

describe('users', () => {
  it('creates accounts through the API (409 for a taken email, 400 for a short password) and the console', async () => {
    const created = await app.api().post('/admin/api/users').send({ email: 'carol@example.com', password: PASSWORD });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ email: 'carol@example.com', is_admin: false, status: 'active' });
    expect(await lastEvent('account.created')).toMatchObject({ account_id: created.body.user.id, details: { via: 'api' } });
    expect((await app.api().post('/admin/api/users').send({ email: 'CAROL@example.com', password: PASSWORD })).body.error).toBe('email_taken');
    const short = await app.api().post('/admin/api/users').send({ email: 'dave@example.com', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error_description).toContain('password must have at least 8 characters');

    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/users', { email: 'erin@example.com', password: PASSWORD, is_admin: 'on' }));
    expect(page.text).toContain('Account created.');
    expect(page.text).toContain('erin@example.com');
    const erin = (await app.api().get('/admin/api/users')).body.users.find((u: { email: string }) => u.email === 'erin@example.com');
    expect(erin).toMatchObject({ is_admin: true, status: 'active', grants: 0 });
    expect((await signInToConsole(app.browser(), 'erin@example.com')).status).toBe(303);
  });

  it('disabling an account signs it out everywhere and ends its grants; enabling lets it sign in again', async () => {
    const person = await app.addUser();
    const personBrowser = app.browser();
    const connected = await connectClient(app, personBrowser, person.email, { resource: NOTES, scope: 'notes:read' });
    expect((await personBrowser.get('/account')).text).toContain('Connected applications');

    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/users/disable', { account_id: person.id }));
    expect(page.text).toContain('Account disabled');
    expect(await lastEvent('account.disabled')).toMatchObject({
      account_id: person.id, details: { actor: app.admin.id, sessions_ended: 1, grants_revoked: 1 },
    });
    expect((await personBrowser.get('/account')).text).toContain('name="password"');
    expect((await refresh(app, { client_id: connected.clientId, refresh_token: connected.refreshToken })).body.error).toBe('invalid_grant');
    expect((await signInToPortal(app.browser(), person.email)).status).toBe(401);

    const enabled = await app.api().post(`/admin/api/users/${person.id}/enable`);
    expect(enabled.body).toMatchObject({ status: 'active', changed: true });
    expect((await signInToPortal(app.browser(), person.email)).status).toBe(303);
  });

  it('an admin cannot disable their own account (409), and an unknown account is a 404', async () => {
    const browser = await app.adminBrowser();
    const refused = await postConsoleForm(browser, '/admin/users/disable', { account_id: app.admin.id });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('you cannot disable your own account');
    expect((await browser.get('/admin')).status).toBe(200);
    expect((await app.api().post('/admin/api/users/nobody/disable')).body.error).toBe('user_not_found');
  });

  it('resets a password: the old one stops working, the new one works, and the person is signed out', async () => {
    const person = await app.addUser();
    const personBrowser = app.browser();
    expect((await signInToPortal(personBrowser, person.email)).status).toBe(303);
    const browser = await app.adminBrowser();
    const tooShort = await postConsoleForm(browser, '/admin/users/password', { account_id: person.id, password: 'short' });
    expect(tooShort.status).toBe(400);
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/users/password', { account_id: person.id, password: 'a brand new passphrase' }));
    expect(page.text).toContain('Password changed.');
    expect(await lastEvent('account.password_reset')).toMatchObject({ account_id: person.id, details: { actor: app.admin.id, sessions_ended: 1 } });
    expect(JSON.stringify(await lastEvent('account.password_reset'))).not.toContain('brand new');
    expect((await personBrowser.get('/account')).text).toContain('name="password"');
    expect((await signInToPortal(app.browser(), person.email)).status).toBe(401);
    expect((await signInToPortal(app.browser(), person.email, 'a brand new passphrase')).status).toBe(303);

    const viaApi = await app.api().post(`/admin/api/users/${person.id}/password`).send({ password: 'another long passphrase' });
    expect(viaApi.body).toMatchObject({ password_reset: true });
  });
});
