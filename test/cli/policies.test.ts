// `policy add|list|remove` through the real CLI: the id add prints is what remove takes, the --json shapes,
// claims in their one stored form, and bad input (NUL, absurd sizes, unknown resource, bad --max-risk,
// malformed claims and ids) refused with a clear message and nothing written; audited with the CLI as actor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { addResource } from '../../src/resources/store.ts';
import { notesResource } from '../helpers/test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
  const added = await sandbox.cli(['resource', 'add', '--uri', NOTES, '--name', 'Notes', '--scope', 'notes:read=read', '--scope', 'notes:write=write']);
  expect(added.code, added.stderr).toBe(0);
});
afterAll(async () => { await sandbox.cleanup(); });

const rows = () => sandbox.withDb(async (db) => (await db.query('SELECT * FROM resource_policies ORDER BY claim')).rows);
const add = (...args: string[]) => sandbox.cli(['policy', 'add', ...args]);

describe('policy add, list, remove', () => {
  let opsId: string;

  it('adds a policy and prints its id, and the --json form', async () => {
    const text = await add('--resource', NOTES, '--claim', 'groups=ops', '--max-risk', 'irreversible');
    expect(text.code, text.stderr).toBe(0);
    opsId = /Added policy (pol_[0-9a-f]{16})/.exec(text.stdout)?.[1] ?? '';
    expect(opsId).not.toBe('');
    expect(text.stdout).toContain(`policy remove --id ${opsId}`);
    const json = parseJsonOutput(await add('--resource', 'HTTPS://MCP.Example.com/mcp', '--claim', 'domain=ACME.Example.', '--max-risk', 'write', '--json'));
    expect(json).toEqual({ policy: { id: expect.stringMatching(/^pol_/), resource: NOTES, claim: 'domain', value: 'acme.example', max_risk: 'write', created_at: expect.any(String) } });
    // A value may contain `=`: the name ends at the first one.
    expect((await add('--resource', NOTES, '--claim', 'https://acme.example/role=a=b', '--max-risk', 'read')).code).toBe(0);
  });

  it('lists them, by resource', async () => {
    const list = parseJsonOutput(await sandbox.cli(['policy', 'list', '--json'])) as { policies: { claim: string; value: string }[] };
    expect(list.policies.map((p) => `${p.claim}=${p.value}`)).toEqual(['domain=acme.example', 'groups=ops', 'https://acme.example/role=a=b']);
    const text = await sandbox.cli(['policy', 'list']);
    expect(text.stdout).toMatch(/^ID\s+RESOURCE\s+CLAIM\s+MAX RISK/);
    expect(text.stdout).toContain(opsId);
  });

  it.each([
    ['an unknown resource', ['--resource', 'https://unknown.example/mcp', '--claim', 'groups=ops', '--max-risk', 'read'], 1, 'no resource https://unknown.example/mcp is registered'],
    ['a bad --max-risk', ['--resource', NOTES, '--claim', 'groups=ops', '--max-risk', 'admin'], 2, '--max-risk: the max risk is one of read, write, irreversible'],
    ['a duplicate', ['--resource', NOTES, '--claim', 'groups=ops', '--max-risk', 'read'], 1, 'a policy for groups=ops on https://mcp.example.com/mcp exists'],
    ['a claim without =', ['--resource', NOTES, '--claim', 'groups', '--max-risk', 'read'], 2, '--claim: write the claim as CLAIM=VALUE'],
    ['a 100 000-character claim', ['--resource', NOTES, '--claim', `groups=${'x'.repeat(100_000)}`, '--max-risk', 'read'], 2, '--claim: the claim is longer than 400 characters'],
    ['a 100 000-character resource', ['--resource', `https://mcp.example.com/${'a'.repeat(100_000)}`, '--claim', 'groups=x', '--max-risk', 'read'], 2, '--resource: the resource URI is longer than 2048 characters'],
    ['no --resource', ['--claim', 'groups=x', '--max-risk', 'read'], 2, '--resource is required'],
  ])('refuses %s with a clear message and writes nothing', async (_label, args, code, message) => {
    const before = await rows();
    const result = await add(...args);
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code, stderr: expect.stringContaining(message) });
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(await rows()).toEqual(before);
  });

  it('removes by the id add printed; an unknown or malformed id is a clear error', async () => {
    const removed = parseJsonOutput(await sandbox.cli(['policy', 'remove', '--id', opsId, '--json']));
    expect(removed).toMatchObject({ removed: { id: opsId, claim: 'groups', value: 'ops' } });
    const again = await sandbox.cli(['policy', 'remove', '--id', opsId]);
    expect({ code: again.code, stderr: again.stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining(`no policy ${opsId}`) });
    const malformed = await sandbox.cli(['policy', 'remove', '--id', "pol_1' OR 1=1"]);
    expect({ code: malformed.code, stderr: malformed.stderr }).toMatchObject({ code: 2, stderr: expect.stringContaining('a policy id is pol_') });
  });

  it('audits adds and removes with the CLI as the actor', async () => {
    const events = await sandbox.withDb(async (db) => (await listAuditEvents(db, { limit: 100 })).filter((e) => e.event_type.startsWith('policy.')));
    expect(events.map((e) => e.event_type).sort()).toEqual(['policy.added', 'policy.added', 'policy.added', 'policy.removed']);
    expect(events.every((e) => e.actor_type === 'operator' && e.actor_id === 'cli' && e.resource === NOTES)).toBe(true);
    expect(events.find((e) => e.event_type === 'policy.removed')?.details).toMatchObject({ policy_id: expect.any(String), claim: 'groups', value: 'ops', max_risk: 'irreversible' });
  });
});

describe('claims refused by the command code (a NUL byte no process argument can carry; every other malformed claim)', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createMigratedTestDb();
    await addResource(testDb.db, notesResource(NOTES), 3600);
  });
  afterAll(async () => { await testDb.cleanup(); });

  it.each([
    ['--claim', 'groups=o\u0000ps', '--claim contains a NUL character'],
    ['--claim', 'gro\u0000ups=ops', '--claim contains a NUL character'],
    ['--resource', `${NOTES}\u0000`, '--resource contains a NUL character'],
    ['--max-risk', 'read\u0000', '--max-risk contains a NUL character'],
    ['--claim', '=ops', 'write the claim as CLAIM=VALUE'],
    ['--claim', 'groups=', 'give a value after ='],
    ['--claim', 'gr oups=x', 'a claim name is 1-100 letters'],
    ['--claim', 'groups=a\u0007b', 'the claim value contains a control character'],
    ['--claim', 'domain=127.0.0.1', '127.0.0.1 is not an email domain'],
    ['--claim', `groups=${'x'.repeat(300)}`, 'the claim value is longer than 256 characters'],
  ])('refuses %s %j and writes nothing', async (option, value, message) => {
    const args: Record<string, string> = { '--resource': NOTES, '--claim': 'groups=ops', '--max-risk': 'read', [option]: value };
    await expect(runCommand(testDb.db, ['policy', 'add', ...Object.entries(args).flat()])).rejects.toThrow(message);
    expect((await testDb.db.query('SELECT * FROM resource_policies')).rows).toEqual([]);
    expect((await testDb.db.query("SELECT * FROM audit_events WHERE event_type LIKE 'policy.%'")).rows).toEqual([]);
  });
});
