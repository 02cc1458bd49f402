// The console's budget forms on Resources → Tools (issue 14 §7) over HTTP: a refused value is the page again with
// the reason and a 4xx (never a 500), hostile or absurd input writes nothing, an unknown resource is a 404, and each
// change is audited with the signed-in admin as actor. (The happy path in Chromium: test/browser/tools.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notesResource } from '../helpers/test-app.ts';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from './helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: AdminTestApp;

const budgetRows = async () => (await app.db.query<{ tool: string | null; risk: string | null; max_calls: number; per_seconds: number }>(
  'SELECT tool, risk, max_calls, per_seconds FROM resource_tool_budgets WHERE resource_uri = $1 ORDER BY tool NULLS LAST, risk', [NOTES])).rows;
const changes = async () => (await app.db.query<{ actor_type: string; actor_id: string; details: Record<string, unknown> }>(
  "SELECT actor_type, actor_id, details FROM audit_events WHERE event_type = 'tools.budget_changed' ORDER BY id DESC")).rows;

beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => { await app?.close(); });

describe('budgets in the console', () => {
  it('adds a risk-class budget and a cap, shown on the page and audited with the admin as actor', async () => {
    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:irreversible', max: '1', per: '86400' }));
    expect(page.text).toContain('Budget saved');
    expect(page.text).toContain('data-budget="risk:irreversible"');
    await followConsole(browser, await postConsoleForm(browser, '/admin/resources/tools/result-cap', { uri: NOTES, max_result_bytes: '5000' }));
    expect(await budgetRows()).toEqual([{ tool: null, risk: 'irreversible', max_calls: 1, per_seconds: 86400 }]);
    expect((await changes()).slice(0, 2)).toEqual([
      { actor_type: 'operator', actor_id: app.admin.id, details: { max_result_bytes: 5000, actor: app.admin.id, via: 'console' } },
      { actor_type: 'operator', actor_id: app.admin.id, details: { tool: null, risk: 'irreversible', max: 1, per_seconds: 86400, actor: app.admin.id, via: 'console' } },
    ]);
  });

  it('refuses bad, hostile or absurd values with the page again and a 4xx, and writes nothing', async () => {
    const browser = await app.adminBrowser();
    const before = { rows: await budgetRows(), events: (await changes()).length };
    const refused: Array<[string, Record<string, string>, number, string]> = [
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:lethal', max: '1', per: '60' }, 400, 'a budget applies to exactly one of a tool'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'bogus', max: '1', per: '60' }, 400, 'a budget applies to exactly one of a tool'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: `tool:${'x'.repeat(300)}`, max: '1', per: '60' }, 400, 'a budget applies to exactly one of a tool'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:write', max: '99999999999', per: '60' }, 400, 'Calls: a whole number'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:write', max: '5', per: '31536001' }, 400, 'a budget allows 1 to 1000000 calls'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:write', max: '-1', per: '60' }, 400, 'Calls: a whole number'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'tool:a\u0000b', max: '1', per: '60' }, 400, 'invalid_request'],
      ['/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:write', max: '1', per: '60', pad: 'x'.repeat(20_000) }, 413, ''],
      ['/admin/resources/tools/result-cap', { uri: NOTES, max_result_bytes: '0' }, 400, 'the result-size cap is 1 to 2000000000 bytes'],
      ['/admin/resources/tools/result-cap', { uri: NOTES, max_result_bytes: '' }, 400, 'Largest result in bytes: a whole number'],
      ['/admin/resources/tools/budgets/remove', { uri: NOTES, target: 'risk:write' }, 404, 'there is no such budget at this resource'],
      ['/admin/resources/tools/budgets', { uri: 'https://nowhere.example.com/mcp', target: 'risk:write', max: '1', per: '60' }, 404, ''],
    ];
    for (const [path, fields, status, words] of refused) {
      const response = await postConsoleForm(browser, path, fields);
      expect(response.status, `${path} ${JSON.stringify(fields).slice(0, 80)}`).toBe(status);
      expect(response.text).toContain(words);
    }
    // The form keeps what was typed, so the operator sees what to fix.
    const again = await postConsoleForm(browser, '/admin/resources/tools/budgets', { uri: NOTES, target: 'risk:write', max: 'many', per: '60' });
    expect(again.text).toContain('value="many"');
    expect(again.text).toMatch(/<option value="risk:write" selected>/);
    expect({ rows: await budgetRows(), events: (await changes()).length }).toEqual(before);
  });

  it('removes a budget and the cap', async () => {
    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/resources/tools/budgets/remove', { uri: NOTES, target: 'risk:irreversible' }));
    expect(page.text).toContain('Budget removed.');
    expect(page.text).toContain('No budgets: calls are not counted.');
    const capless = await followConsole(browser, await postConsoleForm(browser, '/admin/resources/tools/result-cap/remove', { uri: NOTES }));
    expect(capless.text).toMatch(/Result-size cap: <strong>none<\/strong>/);
    expect(await budgetRows()).toEqual([]);
    expect((await changes())[0]).toMatchObject({ actor_id: app.admin.id, details: { max_result_bytes: null, via: 'console' } });
  });
});
