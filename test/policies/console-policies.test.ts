// The console's Policies tab through the real app: add (the claim in its stored form), a refused form shown
// again with its reason and nothing written (NUL, unknown resource, bad risk), remove, audit with the admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from '../admin/helpers.ts';
import { notesResource } from '../helpers/test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: AdminTestApp;
beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => { await app?.close(); });

const policies = async () => (await app.db.query('SELECT claim, value, max_risk FROM resource_policies ORDER BY claim')).rows;

describe('console: policies', () => {
  it('adds a policy, lists it, and audits the admin as its actor', async () => {
    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/policies', { resource: NOTES, claim: 'domain=Acme.Example', max_risk: 'write' }));
    expect(page.text).toContain('Policy added.');
    expect(page.text).toContain('domain=acme.example');
    expect(await policies()).toEqual([{ claim: 'domain', value: 'acme.example', max_risk: 'write' }]);
    const { rows: [event] } = await app.db.query<{ actor_id: string; details: Record<string, unknown> }>(
      "SELECT actor_id, details FROM audit_events WHERE event_type = 'policy.added'");
    expect(event).toMatchObject({ actor_id: app.admin.id, details: { claim: 'domain', value: 'acme.example', max_risk: 'write', via: 'console' } });
  });

  it.each([
    [{ resource: NOTES, claim: 'groups=o\u0000ps', max_risk: 'read' }, 400],
    [{ resource: 'https://unknown.example/mcp', claim: 'groups=ops', max_risk: 'read' }, 404],
    [{ resource: NOTES, claim: 'groups=ops', max_risk: 'owner' }, 400],
    [{ resource: NOTES, claim: 'groups', max_risk: 'read' }, 400],
  ])('refuses %j with a 4xx and writes nothing', async (form, status) => {
    const browser = await app.adminBrowser();
    const before = await policies();
    const response = await postConsoleForm(browser, '/admin/policies', form);
    expect(response.status).toBe(status);
    expect(await policies()).toEqual(before);
  });

  it('removes a policy by its id', async () => {
    const { rows: [row] } = await app.db.query<{ id: string }>('SELECT id FROM resource_policies');
    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/policies/remove', { id: row!.id }));
    expect(page.text).toContain('Policy removed.');
    expect(await policies()).toEqual([]);
    expect((await postConsoleForm(browser, '/admin/policies/remove', { id: row!.id })).status).toBe(404);
  });
});
