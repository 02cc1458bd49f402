// `npm run cli -- audit export`: JSON lines on stdout, one event per line with snake_case names,
// filtered by time and type, paged through the database; bad arguments exit 2 with one line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAuditEvents } from '../../src/audit/store.ts';
import { AUDIT_PAGE_SIZE } from '../../src/audit/export.ts';
import { createSandbox, STACK_FRAME, type Sandbox } from '../cli/harness.ts';

let sandbox: Sandbox;
const COUNT = AUDIT_PAGE_SIZE * 2 + 7; // more than two pages

beforeAll(async () => {
  sandbox = await createSandbox();
  expect((await sandbox.cli(['migrate'])).code).toBe(0);
  await sandbox.withDb(async (db) => {
    const events = Array.from({ length: COUNT }, (_, index) => ({
      type: index % 2 === 0 ? 'login.failed' as const : 'login.succeeded' as const,
      outcome: index % 2 === 0 ? 'failure' as const : 'success' as const,
      accountId: `acct-${index}`, ip: '198.51.100.7', userAgent: 'test-agent', requestId: `req-${index}`,
      details: { index },
    }));
    await recordAuditEvents(db, events);
    // One event from long ago, outside the window the tests ask for.
    await db.query(`INSERT INTO audit_events (occurred_at, event_type) VALUES ('2001-01-01T00:00:00Z', 'login.failed')`);
  });
}, 180_000);
afterAll(async () => sandbox?.cleanup());

const lines = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('audit export', () => {
  it('prints every event since --since as one JSON object per line, oldest first, across pages', async () => {
    const result = await sandbox.cli(['audit', 'export', '--since', '2020-01-01']);
    expect(result.code, result.stderr).toBe(0);
    const events = lines(result.stdout);
    expect(events).toHaveLength(COUNT);
    expect(events.map((e) => (e.details as { index: number }).index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(new Set(events.map((e) => e.id)).size).toBe(COUNT);
    expect(Object.keys(events[0]!).sort()).toEqual([
      'account_email', 'account_id', 'actor_id', 'actor_type', 'client_id', 'details', 'id', 'ip', 'occurred_at',
      'outcome', 'request_id', 'resource', 'scopes', 'type', 'user_agent',
    ]);
    expect(events[0]).toMatchObject({ type: 'login.failed', outcome: 'failure', actor_type: 'user', account_id: 'acct-0', ip: '198.51.100.7', request_id: 'req-0' });
    expect(events[0]!.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(result.stderr).toContain(`exported ${COUNT} audit events`);
  });

  it('filters by --type and --until', async () => {
    const typed = await sandbox.cli(['audit', 'export', '--since', '2020-01-01T00:00:00Z', '--type', 'login.succeeded']);
    expect(typed.code, typed.stderr).toBe(0);
    const events = lines(typed.stdout);
    expect(events).toHaveLength((COUNT - 1) / 2);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['login.succeeded']));

    const old = await sandbox.cli(['audit', 'export', '--since', '2000-01-01', '--until', '2002-01-01']);
    expect(lines(old.stdout)).toEqual([expect.objectContaining({ type: 'login.failed', occurred_at: '2001-01-01T00:00:00.000Z' })]);
  });

  it('--tool-calls prints the tool calls kits reported (issue 14 §6), in the window, never their arguments', async () => {
    await sandbox.withDb(async (db) => {
      await db.query(`INSERT INTO resources (uri, name, access_token_ttl_seconds) VALUES ('https://mcp.example/mcp', 'Export test', 300)`);
      await db.query(`INSERT INTO tool_calls (resource_uri, occurred_at, subject, client_id, tool, arguments_digest, decision, duration_ms, result_bytes)
        VALUES ('https://mcp.example/mcp', '2025-03-01T00:00:00Z', 'acct-1', 'agent', 'read_file', 'sha256:abc', 'allowed', 3, 42),
               ('https://mcp.example/mcp', '2001-01-01T00:00:00Z', 'acct-1', 'agent', 'old_tool', 'sha256:abc', 'refused_by_pin', 0, NULL)`);
    });
    const result = await sandbox.cli(['audit', 'export', '--since', '2020-01-01', '--tool-calls']);
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)).toEqual([{
      resource: 'https://mcp.example/mcp', grant_id: null, at: '2025-03-01T00:00:00.000Z', tool: 'read_file', decision: 'allowed',
      client_id: 'agent', sub: 'acct-1', duration_ms: 3, result_bytes: 42, arguments_digest: 'sha256:abc',
    }]);
    expect(result.stderr).toContain('exported 1 tool call');
  });

  it.each([
    [['audit', 'export'], /--since is required/],
    [['audit', 'export', '--since', 'yesterday'], /--since expects an ISO 8601 date/],
    [['audit', 'export', '--since', '2025-01-01T10:00'], /--since expects an ISO 8601 date/],
    [['audit', 'export', '--since', '2025-01-02', '--until', '2025-01-01'], /--until must be later/],
    [['audit', 'export', '--since', '2025-01-01', '--type', "x'; DROP TABLE audit_events"], /--type expects an event type/],
    [['audit', 'export', '--since', '2025-01-01', '--tool-calls', '--type', 'login.failed'], /--tool-calls exports tool calls, which have no --type/],
  ])('%j exits 2 with one line', async (argv, message) => {
    const result = await sandbox.cli(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});
