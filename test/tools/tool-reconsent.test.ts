// Issue 14 §3, last sentence, through the real app: an operator approval that puts tools of a higher risk behind
// a scope flags the grants holding that scope (DB row, audit), and their next authorization asks the person
// again: prompt=none answers consent_required, a normal one shows the consent page with the notice; Deny keeps
// the grant and the flag, Allow clears it. Equal-risk approvals, other scopes and other resources flag nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type TestAgent from 'supertest/lib/agent.js';
import { toolDefinitionOf, toolDigest, toolScopesMeta } from '@portcullis/resource-server';
import { listAuditEvents } from '../../src/audit/store.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { approvalViewOf, approveTools } from '../../src/tools/service.ts';
import { replaceListedTools, listListedTools } from '../../src/tools/store.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { purgeOrphanToolReconsents } from '../../src/grants/tool-reconsent-store.ts';
import { notesResource } from '../helpers/test-app.ts';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from '../admin/helpers.ts';
import {
  authorizeQuery, clientRedirectOf, decide, exchangeCode, follow, pkcePair, refresh, registerClient, signIn,
} from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
const OTHER = 'https://other.example.com/mcp';
let app: AdminTestApp;
let email: string;
let browser: TestAgent;
let readClient: string;
let readGrant: string;
let readRefreshToken: string;
let writeGrant: string;
let otherGrant: string;

const tool = (name: string, title: string, scopes: string[], annotations?: Record<string, unknown>) =>
  toolDefinitionOf({ name, title, description: `${title}.`, ...(annotations ? { annotations } : {}), _meta: toolScopesMeta(scopes) })!;

/** The server now lists `tools` besides what it listed before; the operator approves exactly `tools`. */
async function serveAndApprove(uri: string, ...tools: ReturnType<typeof tool>[]) {
  const listed = (await listListedTools(app.db, uri)).filter((t) => !tools.some((n) => n.name === t.name));
  await replaceListedTools(app.db, uri, [...listed, ...tools.map((d) => ({ name: d.name, definition: d, digest: toolDigest(d) }))]);
  await approveTools(app.db, uri, { tools: tools.map((t) => t.name) }, CLI_OPERATOR);
}

const flagRows = async () => (await app.db.query<{ grant_id: string; resource_uri: string; scope: string; risk: string; tools: unknown }>(
  'SELECT grant_id, resource_uri, scope, risk, tools FROM grant_tool_reconsents ORDER BY grant_id, scope')).rows;

async function grantFor(clientId: string, resource: string, scope: string) {
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({ clientId, resource, scope, state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  if (page.text.includes('name="password"')) page = await signIn(browser, new URL(page.request.url).pathname, email);
  // Allow exactly the resource scopes asked (a write scope is unchecked by default).
  page = await decide(browser, new URL(page.request.url).pathname, 'approve', scope.split(' ').filter((s) => s.startsWith('notes:')));
  const code = clientRedirectOf(page).searchParams.get('code');
  const verifier = pkce.verifier;
  const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource });
  expect(token.status, token.text).toBe(200);
  const { rows } = await app.db.query<{ id: string }>(
    `SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [clientId]);
  return { grantId: rows[0]!.id, refreshToken: token.body.refresh_token as string | undefined };
}

const authorize = (clientId: string, extra: Record<string, string> = {}) => follow(browser, authorizeQuery({
  clientId, resource: NOTES, scope: 'notes:read offline_access', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256', extra,
}));

beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
  email = app.user.email;
  await app.addResource({ ...notesResource(OTHER), name: 'Other notes' });
  // The catalog as first approved: each tool's risk matches its scope's class.
  await serveAndApprove(NOTES, tool('list_notes', 'List notes', ['notes:read']), tool('add_note', 'Add a note', ['notes:write']));
  browser = app.browser();
  readClient = (await registerClient(app, { client_name: 'Reader' })).client_id;
  ({ grantId: readGrant, refreshToken: readRefreshToken } = await grantFor(readClient, NOTES, 'notes:read offline_access') as { grantId: string; refreshToken: string });
  ({ grantId: writeGrant } = await grantFor((await registerClient(app, { client_name: 'Writer' })).client_id, NOTES, 'notes:write'));
  ({ grantId: otherGrant } = await grantFor((await registerClient(app, { client_name: 'Elsewhere' })).client_id, OTHER, 'notes:read'));
});
afterAll(async () => app?.close());

describe('a scope that gains tools of a higher risk', () => {
  it('an approval of tools no riskier than their scope flags nothing', async () => {
    await serveAndApprove(NOTES, tool('search_notes', 'Search notes', ['notes:read'], { readOnlyHint: true }), tool('edit_note', 'Edit a note', ['notes:write']));
    expect(await flagRows()).toEqual([]);
    expect(await listAuditEvents(app.db, { type: 'grant.reconsent_required' })).toEqual([]);
    // No notice either: the grant still covers the request, so the browser goes straight back with a code.
    expect(clientRedirectOf(await authorize(readClient)).searchParams.get('code')).toEqual(expect.any(String));
  });

  it('flags only the grants holding that scope at that resource, with the new level and the tools, audited with the count', async () => {
    await serveAndApprove(NOTES,
      tool('purge_note', 'Purge a note', ['notes:read', 'notes:delete']),
      tool('wipe_cache', 'Wipe the cache', ['notes:read'], { destructiveHint: true }));
    const rows = await flagRows();
    expect(rows).toEqual([{
      grant_id: readGrant, resource_uri: NOTES, scope: 'notes:read', risk: 'irreversible',
      tools: [{ name: 'purge_note', title: 'Purge a note' }, { name: 'wipe_cache', title: 'Wipe the cache' }],
    }]);
    expect(rows.map((r) => r.grant_id)).not.toContain(writeGrant);
    expect(rows.map((r) => r.grant_id)).not.toContain(otherGrant);
    const [event] = await listAuditEvents(app.db, { type: 'grant.reconsent_required' });
    expect(event).toMatchObject({ resource: NOTES, scopes: 'notes:read', actor_type: 'operator', actor_id: 'cli' });
    expect(event!.details).toMatchObject({ grants: 1, raised: [{ scope: 'notes:read', before: 'read', after: 'irreversible', grants: 1, tools: ['purge_note', 'wipe_cache'] }] });
    const { rows: levels } = await app.db.query('SELECT resource_uri, scope, risk FROM resource_scope_tool_levels');
    expect(levels).toEqual([{ resource_uri: NOTES, scope: 'notes:read', risk: 'irreversible' }]);
  });

  it('the flagged grant\'s refresh token keeps working until the next authorization (decision)', async () => {
    const refreshed = await refresh(app, { client_id: readClient, refresh_token: readRefreshToken, resource: NOTES });
    expect(refreshed.status, refreshed.text).toBe(200);
    expect(refreshed.body.scope).toContain('notes:read');
  });

  it('prompt=none answers consent_required, and the flag stays', async () => {
    const callback = clientRedirectOf(await authorize(readClient, { prompt: 'none' }));
    expect(callback.searchParams.get('error')).toBe('consent_required');
    expect(callback.searchParams.get('code')).toBeNull();
    expect(await flagRows()).toHaveLength(1);
  });

  it('a normal authorization shows the consent page again, saying which new tools notes:read reaches', async () => {
    const page = await authorize(readClient);
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain('Why you are asked again');
    expect(page.text).toMatch(/Notes MCP<\/strong> now lets applications with <code>notes:read<\/code> also use\s+tools of a higher risk \(irreversible\)/);
    const tools = /aria-label="New tools notes:read reaches">([\s\S]*?)<\/ul>/.exec(page.text)?.[1] ?? '';
    expect([...tools.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1])).toEqual(['Purge a note', 'Wipe the cache']);
  });

  it('Deny leaves the grant as it was and the flag in place: the next authorization asks again', async () => {
    const page = await authorize(readClient);
    const denied = clientRedirectOf(await decide(browser, new URL(page.request.url).pathname, 'deny'));
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(await flagRows()).toHaveLength(1);
    const { rows } = await app.db.query<{ scopes: string }>(`SELECT payload->'resources'->>$2 AS scopes FROM oidc_models WHERE model = 'Grant' AND id = $1`, [readGrant, NOTES]);
    expect(rows[0]!.scopes).toContain('notes:read');
    const [deniedEvent] = await listAuditEvents(app.db, { type: 'consent.denied' });
    expect(deniedEvent!.details).toMatchObject({ reason: 'denied', reconsent: ['notes:read'] });
    expect((await authorize(readClient)).text).toContain('Why you are asked again');
  });

  it('Continue clears the flag (audited in consent.granted); the authorization after that needs no page', async () => {
    const page = await authorize(readClient);
    const approved = clientRedirectOf(await decide(browser, new URL(page.request.url).pathname, 'approve'));
    expect(approved.searchParams.get('code')).toEqual(expect.any(String));
    expect(await flagRows()).toEqual([]);
    const [granted] = await listAuditEvents(app.db, { type: 'consent.granted' });
    expect(granted!.details).toMatchObject({ grant_id: readGrant, reconsent: ['notes:read'] });
    expect(clientRedirectOf(await authorize(readClient, { prompt: 'none' })).searchParams.get('code')).toEqual(expect.any(String));
  });

  it('a flag on a scope the grant no longer holds (narrowed since) asks nothing', async () => {
    await app.db.query(`INSERT INTO grant_tool_reconsents (grant_id, resource_uri, scope, risk, tools) VALUES ($1, $2, 'notes:write', 'irreversible', '[]')`, [readGrant, NOTES]);
    expect(clientRedirectOf(await authorize(readClient, { prompt: 'none' })).searchParams.get('code')).toEqual(expect.any(String));
    await app.db.query('DELETE FROM grant_tool_reconsents');
  });

  it('the purge drops the flags of grants that ended, and only those', async () => {
    await app.db.query(`INSERT INTO grant_tool_reconsents (grant_id, resource_uri, scope, risk, tools) VALUES ('gone', $1, 'notes:read', 'irreversible', '[]'),
      ($2, $1, 'notes:read', 'irreversible', '[]')`, [NOTES, readGrant]);
    expect(await purgeOrphanToolReconsents(app.db)).toBe(1);
    expect((await flagRows()).map((r) => r.grant_id)).toEqual([readGrant]);
    await app.db.query('DELETE FROM grant_tool_reconsents');
  });

  it('a tool at a level the scope already has flags nothing again; removing the riskier tools lowers the level, and a new rise flags again', async () => {
    await serveAndApprove(NOTES, tool('purge_all', 'Purge all notes', ['notes:read', 'notes:delete']));
    expect(await flagRows()).toEqual([]);
    expect(await listAuditEvents(app.db, { type: 'grant.reconsent_required' })).toHaveLength(1);
    // The server drops its riskier tools and the operator approves the removals: notes:read is back at read.
    const keep = (await listListedTools(app.db, NOTES)).filter((t) => !['purge_note', 'purge_all', 'wipe_cache'].includes(t.name));
    await replaceListedTools(app.db, NOTES, keep);
    await approveTools(app.db, NOTES, {}, CLI_OPERATOR);
    const { rows: levels } = await app.db.query('SELECT scope, risk FROM resource_scope_tool_levels WHERE resource_uri = $1', [NOTES]);
    expect(levels).toEqual([{ scope: 'notes:read', risk: 'read' }]);
    expect(await flagRows()).toEqual([]);
    // So a riskier tool approved later (here through the CLI, which says so) is a rise again, and the person is asked again.
    const purge = tool('purge_note', 'Purge a note', ['notes:read', 'notes:delete']);
    await replaceListedTools(app.db, NOTES, [...keep, { name: purge.name, definition: purge, digest: toolDigest(purge) }]);
    const approved = await runCommand(app.db, ['resource', 'tools', 'approve', '--uri', NOTES, '--tool', 'purge_note']);
    expect(approved.reconsent_required).toEqual([{ scope: 'notes:read', before: 'read', after: 'irreversible', grants: 1, tools: ['purge_note'] }]);
    expect((await flagRows()).map((r) => [r.grant_id, r.scope, r.risk])).toEqual([[readGrant, 'notes:read', 'irreversible']]);
  });

  it('the console says when its approval asks people again', async () => {
    const risky = tool('rewrite_all', 'Rewrite every note', ['notes:write', 'notes:delete']);
    await replaceListedTools(app.db, NOTES, [...await listListedTools(app.db, NOTES), { name: risky.name, definition: risky, digest: toolDigest(risky) }]);
    const console = await app.adminBrowser();
    const page = await followConsole(console, await postConsoleForm(console, '/admin/resources/tools/approve', { uri: NOTES, tool: 'rewrite_all', seen: approvalViewOf([{ status: 'new', definition: risky }]) }));
    expect(page.text).toContain('each of those grants asks its person again at the next authorization');
    expect((await flagRows()).filter((r) => r.scope === 'notes:write').map((r) => r.grant_id)).toEqual([writeGrant]);
    const [event] = await listAuditEvents(app.db, { type: 'grant.reconsent_required' });
    expect(event).toMatchObject({ actor_type: 'operator', actor_id: app.admin.id, scopes: 'notes:write' });
  });
});
