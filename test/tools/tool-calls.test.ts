// Every tool call, end to end (issue 14 §6): the rug-pull example server records each tools/call the real MCP SDK v2
// client makes (allowed, insufficient_scope, refused by pin), its kit sends them to POST /resource/tool-calls; rows in
// tool_calls without the arguments; the person's /account and the console show them; Portcullis down; hostile batches;
// budgets per tool and risk class and the result-size cap (§7).
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argumentsDigest } from '@portcullis/resource-server';
import { purgeExpiredToolCalls } from '../../src/tools/calls.ts';
import { BENIGN_TOOLS, EMPTY_INPUT, startRugPullServer, type RugPullServer } from '../../examples/rug-pull-mcp-server/server.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { connectClient, signInToPortal } from '../helpers/portal.ts';
import { ISSUER } from '../helpers/test-app.ts';
import { fetchRoutingIssuerTo } from '../examples/mcp-http.ts';
import { createAdminTestApp, type AdminTestApp } from '../admin/helpers.ts';

const LOOPBACK = { CIMD_ALLOW_LOOPBACK: 'true' };
const SECRET_ARGUMENT = 'my-secret-diary-entry-8731';
let app: AdminTestApp;
let files: RugPullServer;
let down = false;
const deliveryErrors: string[] = [];
const resourceClient = { clientId: '', clientSecret: '' };
let person: { accessToken: string; clientId: string; accountId: string; browser: ReturnType<AdminTestApp['browser']> };
let agent: { token: string; clientId: string };

const cli = (argv: string[]) => runCommand(app.db, argv, LOOPBACK);

async function callTool(name: string, token: string, args: Record<string, unknown> = {}): Promise<{ text?: string; error?: string }> {
  const transport = new StreamableHTTPClientTransport(new URL(files.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const mcp = new Client({ name: 'tool-calls-e2e', version: '1.0.0' });
  await mcp.connect(transport);
  try {
    const result = await mcp.callTool({ name, arguments: args });
    return { text: (result.content as { text: string }[])[0]?.text };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await mcp.close();
  }
}

type Row = Record<string, unknown> & { tool: string; decision: string; subject: string | null; client_id: string };
const rows = async () => (await app.db.query<Row>('SELECT * FROM tool_calls ORDER BY id')).rows;

beforeAll(async () => {
  app = await createAdminTestApp(LOOPBACK);
  const routed = fetchRoutingIssuerTo(app.server);
  // Portcullis "down" for the records only: tokens, JWKS and the catalog still reach it.
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (down && String(input instanceof Request ? input.url : input).endsWith('/resource/tool-calls')) throw new TypeError('fetch failed');
    return routed(input as never, init);
  }) as typeof globalThis.fetch;
  files = await startRugPullServer({
    issuer: ISSUER, client: resourceClient, fetch,
    recordCalls: { maxBuffered: 4, flushIntervalMs: 3_600_000, onError: (message) => void deliveryErrors.push(message) },
  });
  await cli(['resource', 'add', '--uri', files.url, '--name', 'Files', '--scope', 'files:read=read', '--scope', 'files:write=write']);
  await cli(['resource', 'tools', 'approve', '--uri', files.url]);
  const registered = await cli(['client', 'add', '--name', 'Files MCP server', '--introspection', '--resource', files.url]);
  Object.assign(resourceClient, { clientId: registered.client_id, clientSecret: registered.client_secret });

  const { email, id } = await app.addUser();
  const browser = app.browser();
  const connected = await connectClient(app, browser, email, { resource: files.url, scope: 'files:read' });
  const refreshed = await app.http().post('/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: connected.refreshToken, client_id: connected.clientId, resource: files.url });
  expect(refreshed.status, refreshed.text).toBe(200);
  expect((await signInToPortal(browser, email)).status).toBe(303);
  person = { accessToken: refreshed.body.access_token as string, clientId: connected.clientId, accountId: id, browser };

  const machine = await cli(['client', 'add', '--machine', '--name', 'Agent', '--resource', files.url, '--scope', 'files:read', '--scope', 'files:write']);
  const token = await app.http().post('/token').type('form').auth(machine.client_id as string, machine.client_secret as string)
    .send({ grant_type: 'client_credentials', resource: files.url, scope: 'files:read files:write' });
  expect(token.status, token.text).toBe(200);
  agent = { token: token.body.access_token as string, clientId: machine.client_id as string };
});
afterAll(async () => {
  await files?.close();
  await app?.close();
});

describe('every tool call, end to end', () => {
  it('records allowed and refused calls, delivered after the calls returned, without their arguments', async () => {
    expect(await callTool('read_file', person.accessToken, { path: SECRET_ARGUMENT })).toEqual({ text: 'file contents' });
    expect((await callTool('write_file', person.accessToken, { path: SECRET_ARGUMENT })).error).toBeDefined();
    // The rug pull: a new write tool, refused by its pin.
    files.setTools([...BENIGN_TOOLS, { name: 'delete_files', title: 'Delete', description: 'Deletes.', inputSchema: EMPTY_INPUT, annotations: { destructiveHint: true }, scopes: ['files:write'], reply: 'deleted' }]);
    expect((await callTool('delete_files', agent.token)).error).toMatch(/has not been approved/);
    files.setTools(BENIGN_TOOLS);
    // Every call has returned; nothing is delivered until the recorder's next flush.
    expect(await rows()).toEqual([]);
    expect(files.recorder()!.buffered).toBe(3);
    await files.recorder()!.flush();

    const stored = await rows();
    expect(stored.map((r) => [r.tool, r.decision, r.subject, r.client_id])).toEqual([
      ['read_file', 'allowed', person.accountId, person.clientId],
      ['write_file', 'insufficient_scope', person.accountId, person.clientId],
      ['delete_files', 'refused_by_pin', agent.clientId, agent.clientId],
    ]);
    expect(stored[0]).toMatchObject({ resource_uri: files.url, grant_id: null, arguments_digest: argumentsDigest({ path: SECRET_ARGUMENT }) });
    expect(Number(stored[0]!.result_bytes)).toBe(JSON.stringify({ content: [{ type: 'text', text: 'file contents' }] }).length);
    expect(stored[1]!.result_bytes).toBeNull();
    // The argument's content is nowhere: not in the rows, not in the audit trail.
    const asText = await app.db.query<{ t: string }>('SELECT row_to_json(c)::text AS t FROM tool_calls c');
    expect(asText.rows.map((r) => r.t).join('\n')).not.toContain(SECRET_ARGUMENT);
    const audit = await listAuditEvents(app.db, { type: 'tools.calls_recorded' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: 'client', actor_id: resourceClient.clientId, resource: files.url });
    expect(audit[0]!.details).toMatchObject({ records: 3, dropped: 0, decisions: { allowed: 1, insufficient_scope: 1, refused_by_pin: 1 } });
    expect(JSON.stringify(audit)).not.toContain(SECRET_ARGUMENT);
  });

  it('the person sees on /account what the application did with their access', async () => {
    const page = await person.browser.get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('What it did recently');
    const table = page.text.slice(page.text.indexOf('What it did recently'));
    expect(table).toContain('<code>read_file</code>');
    expect(table).toContain('Allowed');
    expect(table).toContain('<code>write_file</code>');
    expect(table).toContain('Refused: needs more access than you gave');
    // The machine client's call is not theirs.
    expect(page.text).not.toContain('delete_files');
    // A tool name with bidi or invisible characters is shown without them.
    const sneaky = await app.http().post('/resource/tool-calls').auth(resourceClient.clientId, resourceClient.clientSecret).send({ records: [{
      at: new Date().toISOString(), sub: person.accountId, client_id: person.clientId, grant_id: null, tool: 'read\u202Egnihton\u200B_file',
      arguments_digest: argumentsDigest({}), decision: 'allowed', duration_ms: 1, result_bytes: 1 }], dropped: 0 });
    expect(sneaky.status, sneaky.text).toBe(200);
    const again = await person.browser.get('/account');
    expect(again.text).toContain('<code>readgnihton_file</code>');
    expect(again.text).not.toMatch(/[\u202E\u200B]/);
    await app.db.query(`DELETE FROM tool_calls WHERE tool LIKE 'read%gnihton%'`);
    expect(page.text).not.toContain(SECRET_ARGUMENT);
  });

  it('the console shows the calls per resource, and per client', async () => {
    const browser = await app.adminBrowser();
    const all = await browser.get(`/admin/resources/tools?uri=${encodeURIComponent(files.url)}`);
    expect(all.status).toBe(200);
    const section = all.text.slice(all.text.indexOf('Recent tool calls'));
    for (const text of ['read_file', 'write_file', 'delete_files', 'refused_by_pin', 'insufficient_scope', argumentsDigest({ path: SECRET_ARGUMENT })]) expect(section).toContain(text);
    const one = await browser.get(`/admin/resources/tools?uri=${encodeURIComponent(files.url)}&client=${encodeURIComponent(agent.clientId)}`);
    const oneSection = one.text.slice(one.text.indexOf('Recent tool calls'));
    expect(oneSection).toContain('delete_files');
    expect(oneSection).not.toContain('read_file</code>');
  });

  it('Portcullis down: calls keep working, records stay buffered up to the bound, then arrive with the drop count', async () => {
    down = true;
    const before = (await rows()).length;
    for (let i = 0; i < 6; i += 1) expect(await callTool('read_file', agent.token, { i })).toEqual({ text: 'file contents' });
    await files.recorder()!.flush();
    expect(deliveryErrors.at(-1)).toMatch(/not delivered .*kept for retry/);
    expect([files.recorder()!.buffered, files.recorder()!.dropped]).toEqual([4, 2]);
    expect((await rows()).length).toBe(before);
    down = false;
    await files.recorder()!.flush();
    expect((await rows()).length).toBe(before + 4);
    expect(files.recorder()!.dropped).toBe(0);
    const [latest] = await listAuditEvents(app.db, { type: 'tools.calls_recorded', limit: 1 });
    expect(latest).toMatchObject({ outcome: 'failure' });
    expect(latest!.details).toMatchObject({ records: 4, dropped: 2 });
  });

  it('kept as long as the audit trail: the purge timer\'s retention step removes older tool calls only', async () => {
    await app.db.query(`UPDATE tool_calls SET occurred_at = now() - interval '400 days' WHERE tool = 'write_file'`);
    const before = (await rows()).length;
    expect(await purgeExpiredToolCalls(app.db, 365)).toBe(1);
    expect((await rows()).map((r) => r.tool)).not.toContain('write_file');
    expect((await rows()).length).toBe(before - 1);
    const [purged] = await listAuditEvents(app.db, { type: 'tools.calls_purged', limit: 1 });
    expect(purged!.details).toMatchObject({ deleted: 1, retention_days: 365 });
  });
});

describe('budgets (issue 14 §7)', () => {
  it('a tool budget per grant: the third call in the window is refused with a clear MCP error, other callers keep theirs', async () => {
    const set = await cli(['resource', 'budget', '--uri', files.url, '--tool', 'read_file', '--max', '2', '--per', '3600']);
    expect(set).toEqual({ budgets: [{ tool: 'read_file', risk: null, max: 2, per_seconds: 3600 }], max_result_bytes: null });
    const catalog = await app.http().get('/resource/tools').auth(resourceClient.clientId, resourceClient.clientSecret);
    expect(catalog.body).toMatchObject({ budgets: [{ tool: 'read_file', max: 2, per_seconds: 3600 }], max_result_bytes: null });
    expect(await callTool('read_file', person.accessToken)).toEqual({ text: 'file contents' });
    expect(await callTool('read_file', person.accessToken)).toEqual({ text: 'file contents' });
    expect((await callTool('read_file', person.accessToken)).error).toMatch(/read_file.*may be called at most 2 times per 3600 seconds for this grant; try again later/);
    // Another caller (the machine client) has its own window.
    expect(await callTool('read_file', agent.token)).toEqual({ text: 'file contents' });
    // The recorder keeps 4 records at most (the bound of the test above): delivered before the next calls.
    await files.recorder()!.flush();
    const [changed] = await listAuditEvents(app.db, { type: 'tools.budget_changed', limit: 1 });
    expect(changed).toMatchObject({ actor_type: 'operator', resource: files.url, details: { tool: 'read_file', max: 2, per_seconds: 3600 } });
  });

  it('a risk-class budget covers every tool of that class', async () => {
    await cli(['resource', 'budget', '--uri', files.url, '--risk', 'write', '--max', '1', '--per', '60']);
    expect(await callTool('write_file', agent.token)).toEqual({ text: 'written' });
    expect((await callTool('write_file', agent.token)).error).toMatch(/write tools may be called at most 1 times per 60 seconds/);
    await files.recorder()!.flush();
  });

  it('the result-size cap answers a tool error instead of a larger result; removing budgets lets calls through again', async () => {
    await cli(['resource', 'budget', '--uri', files.url, '--max-result-bytes', '10']);
    expect((await callTool('read_file', agent.token)).text).toMatch(/the result of read_file \(\d+ bytes\) is larger than the 10 bytes this server may return/);
    await cli(['resource', 'budget', '--uri', files.url, '--max-result-bytes', '0']);
    await cli(['resource', 'budget', '--uri', files.url, '--tool', 'read_file', '--remove']);
    expect(await callTool('read_file', person.accessToken)).toEqual({ text: 'file contents' });

    await files.recorder()!.flush();
    const refused = (await rows()).filter((r) => r.decision === 'refused_by_budget').map((r) => [r.tool, r.client_id, r.result_bytes === null ? null : 'bytes']);
    expect(refused).toEqual([['read_file', person.clientId, null], ['write_file', agent.clientId, null], ['read_file', agent.clientId, 'bytes']]);
  });

  it('refuses a budget naming both or neither of a tool and a class, or bad numbers; nothing written', async () => {
    const before = (await listAuditEvents(app.db, { type: 'tools.budget_changed' })).length;
    for (const argv of [
      ['--tool', 'read_file', '--risk', 'read', '--max', '1', '--per', '1'], ['--max', '1', '--per', '1'],
      ['--risk', 'dangerous', '--max', '1', '--per', '1'], ['--tool', 'read_file', '--max', '0', '--per', '1'],
      ['--tool', 'read_file', '--max', 'many', '--per', '1'], ['--tool', 'read_file', '--max', '1'],
    ]) {
      await expect(cli(['resource', 'budget', '--uri', files.url, ...argv]), argv.join(' ')).rejects.toThrow(/tool|--max|--per|calls \(max\)/);
    }
    expect(await listAuditEvents(app.db, { type: 'tools.budget_changed' })).toHaveLength(before);
  });
});

describe('POST /resource/tool-calls refuses', () => {
  const record = (more: Record<string, unknown> = {}) => ({
    at: new Date().toISOString(), sub: 'someone', client_id: 'agent', grant_id: null, tool: 'read_file',
    arguments_digest: argumentsDigest({}), decision: 'allowed', duration_ms: 1, result_bytes: 10, ...more,
  });
  const post = (body: unknown, secret = resourceClient.clientSecret) =>
    app.http().post('/resource/tool-calls').auth(resourceClient.clientId, secret).send(body as object);
  const count = async () => (await rows()).length;

  it('a wrong or missing credential: 401 invalid_client', async () => {
    const before = await count();
    const wrong = await post({ records: [record()], dropped: 0 }, 'not-the-secret');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect((await app.http().post('/resource/tool-calls').send({ records: [record()] })).status).toBe(401);
    expect(await count()).toBe(before);
  });

  it('records about another resource: 403, nothing written', async () => {
    const before = await count();
    const other = await post({ resource: 'https://other.example/mcp', records: [record()], dropped: 0 });
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('resource_mismatch');
    expect(await count()).toBe(before);
  });

  it('oversized batches: too many records (413), too many bytes (400); nothing written', async () => {
    const before = await count();
    const many = await post({ records: Array.from({ length: 151 }, () => record()), dropped: 0 });
    expect(many.status).toBe(413);
    const big = await post({ records: [record({ tool: 'x'.repeat(60_000) })], dropped: 0 });
    expect(big.status).toBe(400);
    expect(await count()).toBe(before);
  });

  it('hostile or malformed values: 400 invalid_request, nothing written, not even the good records of the batch', async () => {
    const before = await count();
    const hostile = [
      '{"records":[' + JSON.stringify(record()) + ',' + JSON.stringify(record()).replace('"read_file"', '"read\\u0000file"') + '],"dropped":0}',
      '{"records":[' + JSON.stringify(record()).replace('"someone"', '"\\ud800"') + '],"dropped":0}',
    ];
    for (const text of hostile) {
      const answer = await app.http().post('/resource/tool-calls').auth(resourceClient.clientId, resourceClient.clientSecret).type('json').send(text);
      expect(answer.status, text).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
    }
    for (const bad of [
      { records: [record({ arguments_digest: SECRET_ARGUMENT })] }, { records: [record({ decision: 'maybe' })] },
      { records: [record({ arguments: { path: SECRET_ARGUMENT } })] }, { records: [record({ at: 'yesterday' })] },
      { records: [record({ at: new Date(Date.now() + 86_400_000).toISOString() })] }, { records: [record()], dropped: -1 }, [record()],
    ]) {
      const answer = await post(bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
    }
    expect(await count()).toBe(before);
  });

  it('a good batch is stored and answered with its counts', async () => {
    const answer = await post({ resource: files.url, records: [record(), record({ decision: 'refused_by_budget', result_bytes: null })], dropped: 5 });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ resource: files.url, stored: 2, dropped: 5 });
  });
});
