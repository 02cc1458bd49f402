// The example notes server with tool governance on (issue 14, Tests), driven by the real MCP SDK clients: inventory
// at registration; before approval the write tool is refused (-32003) and the read tool allowed; approved, it runs; a
// write budget refuses the call past the limit (-32004); every call reaches tool_calls with its decision, person and
// client, the argument's content nowhere in the database; the person's /account, the console and `audit export` show them.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { argumentsDigest } from '@portcullis/resource-server';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { freePort } from '../helpers/free-port.ts';
import { connectClient, signInToPortal } from '../helpers/portal.ts';
import { ISSUER } from '../helpers/test-app.ts';
import { fetchRoutingIssuerTo } from '../examples/mcp-http.ts';
import { createAdminTestApp, type AdminTestApp } from '../admin/helpers.ts';

const LOOPBACK = { CIMD_ALLOW_LOOPBACK: 'true' };
/** The note's text: it must reach the tool and nothing else (its digest alone is recorded). */
const SECRET_NOTE = 'dentist-tuesday-pin-4471-zx';
const NOTES_SCOPES = ['--scope', 'notes:read=read', '--scope', 'notes:write=write', '--scope', 'notes:delete=irreversible'];

let app: AdminTestApp;
let notes: NotesServer;
let resource: string;
let startedAt: Date;
const warnings: string[] = [];
const resourceClient = { clientId: '', clientSecret: '' };
let person: { accountId: string; clientId: string; accessToken: string; browser: ReturnType<AdminTestApp['browser']> };
let reader: { clientId: string; accessToken: string };

const cli = (argv: string[]) => runCommand(app.db, argv, LOOPBACK);

/** An access token for `scope`, from a grant the person gave a newly registered client (refreshed: a fresh token). */
async function grantedToken(browser: ReturnType<AdminTestApp['browser']>, email: string, scope: string) {
  const connected = await connectClient(app, browser, email, { resource, scope, approve: scope.split(' ') });
  const refreshed = await app.http().post('/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: connected.refreshToken, client_id: connected.clientId, resource });
  expect(refreshed.status, refreshed.text).toBe(200);
  expect(refreshed.body.scope).toBe(scope);
  return { clientId: connected.clientId, accessToken: refreshed.body.access_token as string };
}

/** One tools/call with the MCP SDK v2 client: the text answered, or the JSON-RPC error's code and message. */
async function callV2(name: string, token: string, args: Record<string, unknown> = {}): Promise<{ text?: string; code?: number; error?: string }> {
  const client = new ClientV2({ name: 'notes-governance-v2', version: '1.0.0' });
  await client.connect(new TransportV2(new URL(notes.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const result = await client.callTool({ name, arguments: args });
    return { text: (result.content as { text: string }[])[0]?.text };
  } catch (error) {
    return { code: (error as { code?: number }).code, error: (error as Error).message };
  } finally {
    await client.close();
  }
}

/** The same with the MCP SDK v1 client (`@modelcontextprotocol/sdk`). */
async function callV1(name: string, token: string, args: Record<string, unknown> = {}): Promise<{ text?: string; code?: number; error?: string }> {
  const client = new ClientV1({ name: 'notes-governance-v1', version: '1.0.0' });
  await client.connect(new TransportV1(new URL(notes.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const result = await client.callTool({ name, arguments: args });
    return { text: (result.content as { text: string }[])[0]?.text };
  } catch (error) {
    return { code: (error as { code?: number }).code, error: (error as Error).message };
  } finally {
    await client.close();
  }
}

type Row = { tool: string; decision: string; subject: string | null; client_id: string; arguments_digest: string; result_bytes: string | number | null; resource_uri: string };
const rows = async () => (await app.db.query<Row>('SELECT * FROM tool_calls ORDER BY id')).rows;

/** Runs `audit export --tool-calls` in process; returns its JSON lines. */
async function exportedToolCalls(since: Date): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await cli(['audit', 'export', '--since', since.toISOString(), '--tool-calls']);
  } finally {
    write.mockRestore();
  }
  return written.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  startedAt = new Date(Date.now() - 1000);
  app = await createAdminTestApp(LOOPBACK);
  const fetch = fetchRoutingIssuerTo(app.server);
  const port = await freePort();
  resource = `http://localhost:${port}/mcp`;
  // As an operator would: the server runs (governance off) while it is registered, so the inventory lists it;
  // then it is restarted with the resource's credential, which can only be made once the resource exists.
  const ungoverned = await startNotesServer({ port, issuer: ISSUER, fetch });
  expect(ungoverned.governance).toBeUndefined();
  await cli(['resource', 'add', '--uri', resource, '--name', 'Notes', ...NOTES_SCOPES]);
  await ungoverned.close();
  const registered = await cli(['client', 'add', '--name', 'Notes MCP server', '--introspection', '--resource', resource]);
  Object.assign(resourceClient, { clientId: registered.client_id, clientSecret: registered.client_secret });
  notes = await startNotesServer({
    port, issuer: ISSUER, fetch,
    governance: {
      ...resourceClient, cacheSeconds: 0, onWarning: (message) => void warnings.push(message),
      // Delivered when the test flushes, so it can see that nothing is sent on the call's path.
      recorder: { flushIntervalMs: 3_600_000 },
    },
  });

  const { email, id } = await app.addUser();
  const browser = app.browser();
  const writer = await grantedToken(browser, email, 'notes:read notes:write');
  expect((await signInToPortal(browser, email)).status).toBe(303);
  person = { accountId: id, ...writer, browser };
  reader = await grantedToken(browser, email, 'notes:read');
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

describe('the notes server under tool governance', () => {
  it('was inventoried at registration: every tool with its scope and risk, none approved yet', async () => {
    const catalog = await cli(['resource', 'tools', '--uri', resource]);
    expect(catalog.last_refresh_error).toBeNull();
    expect((catalog.tools as { name: string; scope: string; risk: string; status: string }[]).map(({ name, scope, risk, status }) => ({ name, scope, risk, status }))).toEqual([
      { name: 'add_note', scope: 'notes:write', risk: 'write', status: 'new' },
      { name: 'delete_all_notes', scope: 'notes:delete', risk: 'irreversible', status: 'new' },
      { name: 'list_notes', scope: 'notes:read', risk: 'read', status: 'new' },
    ]);
  });

  it('before approval: the write tool is refused with -32003 (SDK v2 and v1 clients), the read tool runs with a warning', async () => {
    const refused = await callV2('add_note', person.accessToken, { text: SECRET_NOTE });
    expect(refused.code).toBe(-32003);
    expect(refused.error).toMatch(/the tool "add_note" has not been approved by an operator; calls to write tools are refused until it is approved/);
    const refusedV1 = await callV1('add_note', person.accessToken, { text: SECRET_NOTE });
    expect(refusedV1.code).toBe(-32003);
    expect(notes.store.list(person.accountId)).toEqual([]);

    expect(await callV2('list_notes', person.accessToken)).toEqual({ text: 'You have no notes.' });
    expect(warnings.at(-1)).toMatch(/the tool "list_notes" has not been approved by an operator; allowed \(read tool\)/);
  });

  it('approved by the operator, the write tool runs; a token without notes:write is still refused (403)', async () => {
    const approved = await cli(['resource', 'tools', 'approve', '--uri', resource]);
    expect(JSON.stringify(approved)).toContain('add_note');
    expect(await callV2('add_note', person.accessToken, { text: SECRET_NOTE })).toEqual({ text: 'Added note 1.' });
    expect(await callV1('add_note', person.accessToken, { text: SECRET_NOTE })).toEqual({ text: 'Added note 2.' });
    expect(notes.store.list(person.accountId)).toEqual([SECRET_NOTE, SECRET_NOTE]);
    const short = await callV2('add_note', reader.accessToken, { text: SECRET_NOTE });
    expect(short.error).toBe('Insufficient scope: required "notes:read notes:write"');
    expect(notes.store.list(person.accountId)).toHaveLength(2);
  });

  it('a write budget of 1 per hour: the second write is refused with -32004, reads go on', async () => {
    const set = await cli(['resource', 'budget', '--uri', resource, '--risk', 'write', '--max', '1', '--per', '3600']);
    expect(set).toEqual({ budgets: [{ tool: null, risk: 'write', max: 1, per_seconds: 3600 }], max_result_bytes: null });
    expect(await callV2('add_note', person.accessToken, { text: SECRET_NOTE })).toEqual({ text: 'Added note 3.' });
    const over = await callV2('add_note', person.accessToken, { text: SECRET_NOTE });
    expect(over.code).toBe(-32004);
    expect(over.error).toMatch(/write tools may be called at most 1 times per 3600 seconds for this grant; try again later/);
    expect(notes.store.list(person.accountId)).toHaveLength(3);
    expect((await callV2('list_notes', person.accessToken)).text).toContain(`3. ${SECRET_NOTE}`);
  });

  it('every call is in tool_calls with its decision, person and client, delivered on flush; the note\'s text is nowhere in the database', async () => {
    // Every call has returned; nothing was sent on their path.
    expect(await rows()).toEqual([]);
    await notes.governance!.recorder.flush();
    const stored = await rows();
    expect(stored.map((r) => [r.tool, r.decision, r.subject, r.client_id])).toEqual([
      ['add_note', 'refused_by_pin', person.accountId, person.clientId],
      ['add_note', 'refused_by_pin', person.accountId, person.clientId],
      ['list_notes', 'allowed', person.accountId, person.clientId],
      ['add_note', 'allowed', person.accountId, person.clientId],
      ['add_note', 'allowed', person.accountId, person.clientId],
      ['add_note', 'insufficient_scope', person.accountId, reader.clientId],
      ['add_note', 'allowed', person.accountId, person.clientId],
      ['add_note', 'refused_by_budget', person.accountId, person.clientId],
      ['list_notes', 'allowed', person.accountId, person.clientId],
    ]);
    for (const row of stored) expect(row.resource_uri).toBe(resource);
    const digest = argumentsDigest({ text: SECRET_NOTE });
    expect(stored.filter((r) => r.tool === 'add_note').map((r) => r.arguments_digest)).toEqual(Array(7).fill(digest));
    expect(stored.filter((r) => r.decision === 'allowed').every((r) => Number(r.result_bytes) > 0)).toBe(true);
    expect(stored.filter((r) => r.decision !== 'allowed').map((r) => r.result_bytes)).toEqual([null, null, null, null]);

    const everywhere = await app.db.query<{ t: string }>(
      `SELECT row_to_json(c)::text AS t FROM tool_calls c UNION ALL SELECT row_to_json(a)::text FROM audit_events a`);
    expect(everywhere.rows.length).toBeGreaterThan(stored.length);
    expect(everywhere.rows.map((r) => r.t).join('\n')).not.toContain(SECRET_NOTE);
    const [recorded] = await listAuditEvents(app.db, { type: 'tools.calls_recorded' });
    expect(recorded).toMatchObject({ actor_type: 'client', actor_id: resourceClient.clientId, resource });
    expect(recorded!.details).toMatchObject({ records: 9, dropped: 0, decisions: { allowed: 5, refused_by_pin: 2, insufficient_scope: 1, refused_by_budget: 1 } });
  });

  it('the person\'s /account shows, under the grant, what the application did', async () => {
    const page = await person.browser.get('/account');
    expect(page.status).toBe(200);
    const table = page.text.slice(page.text.indexOf('What it did recently'));
    expect(table).toContain('<code>add_note</code>');
    for (const words of ['Allowed', 'Refused: this tool is not approved by the administrator', 'Refused: over its limit', 'Refused: needs more access than you gave']) {
      expect(table).toContain(words);
    }
    expect(page.text).not.toContain(SECRET_NOTE);
  });

  it('the console lists the calls at the resource, with the digest and never the text', async () => {
    const console = await app.adminBrowser();
    const page = await console.get(`/admin/resources/tools?uri=${encodeURIComponent(resource)}`);
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('Recent tool calls'));
    for (const text of ['add_note', 'list_notes', 'refused_by_pin', 'refused_by_budget', 'insufficient_scope', argumentsDigest({ text: SECRET_NOTE })]) {
      expect(section).toContain(text);
    }
    expect(page.text).not.toContain(SECRET_NOTE);
  });

  it('`audit export --tool-calls` prints them, with the digest and never the text', async () => {
    const lines = (await exportedToolCalls(startedAt)).filter((line) => line.resource === resource);
    expect(lines.map((l) => [l.tool, l.decision, l.sub, l.client_id])).toEqual((await rows()).map((r) => [r.tool, r.decision, r.subject, r.client_id]));
    expect(lines[0]).toMatchObject({ grant_id: null, arguments_digest: argumentsDigest({ text: SECRET_NOTE }), result_bytes: null });
    expect(JSON.stringify(lines)).not.toContain(SECRET_NOTE);
  });

  it('close() delivers what is still buffered', async () => {
    expect(await callV2('list_notes', person.accessToken, { limit: 1 })).toEqual({ text: `1. ${SECRET_NOTE}` });
    expect(notes.governance!.recorder.buffered).toBe(1);
    const before = (await rows()).length;
    await notes.close();
    expect((await rows()).length).toBe(before + 1);
    expect((await rows()).at(-1)).toMatchObject({ tool: 'list_notes', decision: 'allowed' });
  });
});
