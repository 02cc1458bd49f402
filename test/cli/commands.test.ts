// The CLI's frame through the real process: migrate on an empty database, keys rotate, help text,
// and usage errors (unknown command) with exit 2 and no database touched.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';

const sandboxes: Sandbox[] = [];
async function fresh(): Promise<Sandbox> {
  const sandbox = await createSandbox();
  sandboxes.push(sandbox);
  return sandbox;
}
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.cleanup()));
});

describe('migrate', () => {
  it('applies every migration to an empty database, then reports it up to date', async () => {
    const sandbox = await fresh();
    const first = await sandbox.cli(['migrate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Applied \d+ migrations?:\n {2}0001_initial\n/);
    expect(first.stdout).toContain(sandbox.engine === 'pglite' ? `Database: embedded PGlite in ${sandbox.dataDir}` : 'Database: PostgreSQL');
    if (sandbox.engine === 'pglite') expect(existsSync(join(sandbox.dataDir, 'pgdata'))).toBe(true);

    const again = await sandbox.cli(['migrate', '--json']);
    expect(again.code).toBe(0);
    expect(parseJsonOutput(again)).toEqual({
      applied: [], current: expect.stringMatching(/^\d{4}$/), database: sandbox.engine,
    });
  });
});

describe('keys rotate', () => {
  it('adds a key set of three and prints their kids', async () => {
    const sandbox = await fresh();
    const countKeys = () => sandbox.withDb(async (db) =>
      (await db.query<{ kid: string }>('SELECT kid FROM signing_keys')).rows.map((row) => row.kid));

    const first = await sandbox.cli(['keys', 'rotate', '--json']);
    expect(first.code).toBe(0);
    const kids = parseJsonOutput(first).kids;
    expect(kids).toHaveLength(3);
    expect((await countKeys()).sort()).toEqual([...(kids as string[])].sort());

    const second = await sandbox.cli(['keys', 'rotate']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Running servers sign with them within KEY_REFRESH_SECONDS');
    expect(await countKeys()).toHaveLength(6);
    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'keys.rotated' }));
    expect(events).toHaveLength(2);
    expect(events[1]?.details).toEqual({ actor: 'cli', kids });
  });

  it('refuses to add keys under a KEY_ENCRYPTION_SECRET that cannot read the existing ones', async () => {
    const sandbox = await fresh();
    expect((await sandbox.cli(['keys', 'rotate'])).code).toBe(0);
    const wrong = await sandbox.cli(['keys', 'rotate'], { KEY_ENCRYPTION_SECRET: 'x'.repeat(40) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: signing key \S+ cannot be decrypted: KEY_ENCRYPTION_SECRET differs/);
    expect(wrong.stderr).not.toMatch(STACK_FRAME);
    const count = await sandbox.withDb(async (db) => (await db.query('SELECT 1 FROM signing_keys')).rowCount);
    expect(count).toBe(3);
  });
});

describe('usage', () => {
  it('lists every command for help, --help and no arguments', async () => {
    const sandbox = await fresh();
    for (const args of [['help'], ['--help'], []]) {
      const result = await sandbox.cli(args);
      expect(result.code, args.join(' ')).toBe(0);
      for (const command of ['user add', 'user list', 'resource add', 'resource list', 'client add', 'client list',
        'keys list', 'keys rotate', 'keys retire', 'migrate', 'help']) {
        expect(result.stdout).toContain(`\n  ${command}`);
      }
    }
  });

  it('answers an unknown command or a bad configuration with one line on stderr, never a stack trace', async () => {
    const sandbox = await fresh();
    const unknown = await sandbox.cli(['frobnicate', '--json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.trim()).toBe('error: unknown command "frobnicate"; run "help" to list commands');
    // Usage errors are found before the database is opened: nothing was created in DATA_DIR.
    expect(readdirSync(sandbox.dataDir)).toEqual([]);

    const partial = await sandbox.cli(['client']);
    expect(partial.code).toBe(2);
    expect(partial.stderr.trim()).toBe('error: unknown command "client"; did you mean client add or client list or client disable or client enable or client delete?');

    const badConfig = await sandbox.cli(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toContain('DATABASE_URL: must be a postgres:// URL');
    expect(badConfig.stderr).not.toMatch(STACK_FRAME);
  });

  // With DATABASE_URL, DATA_DIR holds only secrets: there is no lock to find.
  it.skipIf(process.env.DATABASE_URL)('passes on the lock holder\'s message when DATA_DIR is held but no server answers', async () => {
    const sandbox = await fresh();
    // A live pid (this test process) in the lock and no socket: what another running CLI command looks like.
    writeFileSync(join(sandbox.dataDir, 'portcullis.lock'), `${process.pid}\n`);
    const result = await sandbox.cli(['user', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^error: DATA_DIR \\S+ is in use by process ${process.pid}, but its socket`));
    expect(result.stderr).toContain('wait for it to finish');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});
