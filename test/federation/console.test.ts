// The console's identity providers page through the real app: add (secret never echoed or stored in the
// clear), a refused form shown again with its reason, disable, remove, CSRF required, audit with the admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from '../admin/helpers.ts';

const SECRET = 'console-secret-0123456789';
let app: AdminTestApp;
beforeAll(async () => { app = await createAdminTestApp(); });
afterAll(async () => { await app?.close(); });

const okta = { name: 'acme', display_name: 'Acme', preset: 'okta', issuer: 'https://acme.okta.com', client_id: 'cid', client_secret: SECRET, domains: 'acme.example, Corp.Example', create_accounts: 'on' };

describe('console: identity providers', () => {
  it('adds a provider and lists it with the callback URL, never the secret', async () => {
    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/identity-providers', okta));
    expect(page.text).toContain('Identity provider added');
    expect(page.text).toContain('http://localhost:4000/federation/callback');
    expect(page.text).toContain('acme.example, corp.example');
    expect(page.text).not.toContain(SECRET);
    const { rows } = await app.db.query('SELECT * FROM identity_providers');
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    const { rows: [event] } = await app.db.query<{ actor_id: string; details: Record<string, unknown> }>(
      "SELECT actor_id, details FROM audit_events WHERE event_type = 'identity_provider.added'");
    expect(event).toMatchObject({ actor_id: app.admin.id, details: { name: 'acme', via: 'console' } });
  });

  it('shows a refused form again with its reason and status, without the secret, writing nothing', async () => {
    const browser = await app.adminBrowser();
    const response = await postConsoleForm(browser, '/admin/identity-providers', { ...okta, name: 'other', domains: 'acme.example' });
    expect(response.status).toBe(409);
    expect(response.text).toContain('acme.example already belongs to identity provider acme');
    expect(response.text).not.toContain(SECRET);
    const entra = await postConsoleForm(browser, '/admin/identity-providers', { ...okta, name: 'other', preset: 'entra', issuer: '', domains: '' });
    expect(entra.status).toBe(400);
    expect(entra.text).toContain('the entra preset needs --tenant');
    expect((await app.db.query("SELECT 1 FROM identity_providers WHERE name = 'other'")).rows).toEqual([]);
  });

  it('refuses a form without the CSRF field', async () => {
    const browser = await app.adminBrowser();
    const response = await browser.post('/admin/identity-providers').type('form').send({ ...okta, name: 'nocsrf' });
    expect(response.status).toBe(403);
    expect((await app.db.query("SELECT 1 FROM identity_providers WHERE name = 'nocsrf'")).rows).toEqual([]);
  });

  it('disables, enables and removes a provider, each audited', async () => {
    const browser = await app.adminBrowser();
    expect((await followConsole(browser, await postConsoleForm(browser, '/admin/identity-providers/disable', { name: 'acme' }))).text).toContain('Identity provider disabled');
    expect((await app.db.query("SELECT disabled_at FROM identity_providers WHERE name = 'acme'")).rows[0]?.disabled_at).not.toBeNull();
    await followConsole(browser, await postConsoleForm(browser, '/admin/identity-providers/enable', { name: 'acme' }));
    const removed = await followConsole(browser, await postConsoleForm(browser, '/admin/identity-providers/remove', { name: 'acme' }));
    expect(removed.text).toContain('No identity providers yet.');
    const missing = await postConsoleForm(browser, '/admin/identity-providers/remove', { name: 'acme' });
    expect(missing.status).toBe(404);
    const { rows } = await app.db.query<{ event_type: string }>("SELECT event_type FROM audit_events WHERE event_type LIKE 'identity_provider.%' ORDER BY id");
    expect(rows.map((r) => r.event_type)).toEqual(['identity_provider.added', 'identity_provider.updated', 'identity_provider.updated', 'identity_provider.removed']);
  });

  it('disables with the operator\'s choice for its people: sign them out, or also end their grants', async () => {
    const browser = await app.adminBrowser();
    expect((await postConsoleForm(browser, '/admin/identity-providers', { ...okta, name: 'choice', domains: 'choice.test' })).status).toBe(303);
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/identity-providers/disable', { name: 'choice', people: 'grants' }));
    expect(page.text).toContain('Identity provider disabled');
    const { rows: [event] } = await app.db.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_events WHERE event_type = 'identity_provider.updated' ORDER BY id DESC LIMIT 1");
    expect(event?.details).toMatchObject({ name: 'choice', sessions_ended: 0, grants_ended: 0 });
  });
});
