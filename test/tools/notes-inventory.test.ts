// The inventory of the example notes server (kit-protected, MCP SDK v2): each tool's scope comes from the kit's
// `_meta` "portcullis/scopes" through tools/list; risk follows the scope's class; annotations that contradict it are flagged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolDefinition } from '@portcullis/resource-server';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { toolFlagsOf, toolRisk } from '../../src/tools/blast-radius.ts';
import { refreshToolCatalog, toolServiceDeps } from '../../src/tools/service.ts';
import { toolCatalogJson } from '../../src/tools/json.ts';
import { refreshEveryCatalog } from '../../src/tools/inventory-timer.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { fetchRoutingIssuerTo } from '../examples/mcp-http.ts';

let app: TestApp;
let notes: NotesServer;

beforeAll(async () => {
  app = await createTestApp({ CIMD_ALLOW_LOOPBACK: 'true' });
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource(notesResource(notes.url));
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

describe('inventory of the notes server', () => {
  it('lists every tool with the scope the kit reports and its risk, without flags', async () => {
    const outcome = await refreshToolCatalog(toolServiceDeps(app.db, app.config, TEST_SECRETS.keyEncryptionSecret), notes.url, CLI_OPERATOR);
    expect(outcome.error).toBeUndefined();
    expect(toolCatalogJson(outcome.catalog).tools.map(({ name, scope, risk, status, flags }) => ({ name, scope, risk, status, flags }))).toEqual([
      { name: 'add_note', scope: 'notes:write', risk: 'write', status: 'new', flags: [] },
      { name: 'delete_all_notes', scope: 'notes:delete', risk: 'irreversible', status: 'new', flags: [] },
      { name: 'list_notes', scope: 'notes:read', risk: 'read', status: 'new', flags: [] },
    ]);
  });
});

describe('the periodic inventory', () => {
  it('lists every enabled resource, as the server itself (actor system); a disabled one is skipped', async () => {
    await app.addResource({ ...notesResource('https://off.example/mcp'), name: 'Off' });
    await app.db.query(`UPDATE resources SET disabled_at = now() WHERE uri = 'https://off.example/mcp'`);
    const before = (await listAuditEvents(app.db, { type: 'tools.listed' })).length;
    await refreshEveryCatalog(toolServiceDeps(app.db, app.config, TEST_SECRETS.keyEncryptionSecret));
    const listed = await listAuditEvents(app.db, { type: 'tools.listed' });
    expect(listed.length).toBe(before + 1);
    expect(listed[0]).toMatchObject({ resource: notes.url, actor_type: 'system' });
    expect((await listAuditEvents(app.db, { type: 'tools.list_failed' })).some((e) => e.resource === 'https://off.example/mcp')).toBe(false);
  });
});

describe('blast radius', () => {
  const scopes = [{ scope: 'r', risk: 'read' as const, description: '' }, { scope: 'x', risk: 'irreversible' as const, description: '' }];
  const tool = (over: Partial<ToolDefinition>): ToolDefinition => ({ name: 't', scopes: ['r'], ...over });

  it('flags a destructive tool behind a read scope, a tool needing no scope, read-only on irreversible, unknown and undeclared scopes', () => {
    expect(toolFlagsOf(tool({ annotations: { destructiveHint: true } }), scopes)).toEqual(['destructive_behind_read_scope']);
    expect(toolFlagsOf(tool({ scopes: [] }), scopes)).toEqual(['no_scope']);
    expect(toolFlagsOf(tool({ scopes: ['x'], annotations: { readOnlyHint: true } }), scopes)).toEqual(['read_only_hint_on_irreversible_scope']);
    expect(toolFlagsOf(tool({ scopes: null }), scopes)).toEqual(['scope_unknown']);
    expect(toolFlagsOf(tool({ scopes: ['nope'] }), scopes)).toEqual(['undeclared_scope']);
    expect(toolFlagsOf(tool({ scopes: ['x'], annotations: { destructiveHint: true } }), scopes)).toEqual([]);
  });

  it('takes the highest class among the scopes; an undeclared scope counts as write, none reported as unknown', () => {
    expect(toolRisk(tool({ scopes: ['r', 'x'] }), scopes)).toBe('irreversible');
    expect(toolRisk(tool({ scopes: ['r', 'nope'] }), scopes)).toBe('write');
    expect(toolRisk(tool({ scopes: null }), scopes)).toBe('unknown');
  });
});
