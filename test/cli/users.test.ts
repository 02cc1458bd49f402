// `user add` / `user list` through the real CLI: accounts are created and audited, a duplicate email
// is an operational error (exit 1) with one clear line, bad input is a usage error (exit 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => { await sandbox.cleanup(); });

describe('user add', () => {
  it('creates an account, then refuses the same email in another case with exit 1 and no stack trace', async () => {
    const created = await sandbox.cli(['user', 'add', '--email', 'ada@example.com', '--password', 'correct horse', '--admin']);
    expect(created.code).toBe(0);
    // The sandbox's first command migrates the empty database and says so, on stderr only.
    expect(created.stderr.trim()).toMatch(/^note: applied migrations 0001(, \d{4})*$/);
    expect(created.stdout).toContain('ada@example.com');

    const duplicate = await sandbox.cli(['user', 'add', '--email', 'ADA@example.com', '--password', 'another one']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stdout).toBe('');
    expect(duplicate.stderr.trim()).toBe('error: an account with email ADA@example.com already exists');
    expect(duplicate.stderr).not.toMatch(STACK_FRAME);

    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'account.created' }));
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toEqual({ actor: 'cli' });
  });

  it('prints one JSON object with snake_case names under --json, and lists the account', async () => {
    const result = await sandbox.cli(['user', 'add', '--email', 'grace@example.com', '--password', 'long enough', '--json']);
    expect(result.code).toBe(0);
    expect(parseJsonOutput(result)).toEqual({ id: expect.any(String), email: 'grace@example.com', is_admin: false });

    const listed = parseJsonOutput(await sandbox.cli(['user', 'list', '--json']));
    expect(listed.users).toEqual(expect.arrayContaining([
      expect.objectContaining({ email: 'grace@example.com', is_admin: false, disabled: false }),
    ]));
  });

  it('rejects a short password and a missing option as usage errors (exit 2), one line each', async () => {
    const short = await sandbox.cli(['user', 'add', '--email', 'x@example.com', '--password', 'short']);
    expect(short.code).toBe(2);
    expect(short.stderr.trim()).toBe('error: --password: password must have at least 8 characters');

    const missing = await sandbox.cli(['user', 'add', '--email', 'x@example.com']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: user add: --password is required');

    const unknownOption = await sandbox.cli(['user', 'add', '--email', 'x@example.com', '--pasword', 'long enough']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr.trim()).toBe('error: user add: unknown option --pasword');
    for (const result of [short, missing, unknownOption]) expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
