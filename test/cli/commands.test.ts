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

// Each CLI run starts Node and opens the database: several in one test outlast the default timeout.
const SEVERAL_CLI_RUNS = 120_000;

describe('keys rotate', () => {
  it('adds a key set of three and prints their kids; into an empty key set they sign at once', async () => {
    const sandbox = await fresh();
    const countKeys = () => sandbox.withDb(async (db) =>
      (await db.query<{ kid: string }>('SELECT kid FROM signing_keys')).rows.map((row) => row.kid));

    const first = await sandbox.cli(['keys', 'rotate', '--json']);
    expect(first.code).toBe(0);
    const { kids, activates_at: firstActivation } = parseJsonOutput(first) as { kids: string[]; activates_at: string };
    expect(kids).toHaveLength(3);
    expect((await countKeys()).sort()).toEqual([...kids].sort());
    // Nothing was published before, so nothing can be waited for: the first keys sign at once.
    expect(Date.parse(firstActivation)).toBeLessThanOrEqual(Date.now());

    const second = await sandbox.cli(['keys', 'rotate']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Running servers publish them within KEY_REFRESH_SECONDS (5 s here) and sign with them from ');
    expect(second.stdout).toContain('(in 60 s, KEY_PUBLISH_AHEAD_SECONDS)');
    expect(await countKeys()).toHaveLength(6);
    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'keys.rotated' }));
    expect(events).toHaveLength(2);
    expect(events[1]?.details).toEqual({ actor: 'cli', kids, activates_at: firstActivation });
  }, SEVERAL_CLI_RUNS);

  it('publishes ahead (KEY_PUBLISH_AHEAD_SECONDS): `keys list` shows the new keys pending with their activation time', async () => {
    const sandbox = await fresh();
    expect((await sandbox.cli(['keys', 'rotate'])).code).toBe(0);
    const rotated = await sandbox.cli(['keys', 'rotate', '--json'], { KEY_PUBLISH_AHEAD_SECONDS: '600' });
    const { kids, activates_at: activatesAt } = parseJsonOutput(rotated) as { kids: string[]; activates_at: string };
    expect(Math.abs(Date.parse(activatesAt) - Date.now() - 600_000)).toBeLessThan(20_000);

    const listed = parseJsonOutput(await sandbox.cli(['keys', 'list', '--json'])).keys as { kid: string; status: string; activates_at: string }[];
    expect(listed.filter((key) => key.status === 'pending')).toEqual(kids.map((kid) => expect.objectContaining({ kid, activates_at: activatesAt })));
    expect(listed.filter((key) => key.status === 'signing')).toHaveLength(3);
    const text = await sandbox.cli(['keys', 'list']);
    expect(text.stdout).toMatch(/^KID +ALG +STATUS +CREATED +SIGNS FROM +RETIRABLE FROM +RETIRED$/m);
    expect(text.stdout).toContain(`${kids[0]}  ES256  pending`);
    expect(text.stdout).toContain(activatesAt.replace(/\.\d{3}Z$/, 'Z'));

    // Retiring a pending key cancels the rotation for its algorithm: refused unless forced.
    const refused = await sandbox.cli(['keys', 'retire', `--kid=${kids[0]!}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: signing key \S+ is pending: it is published and starts signing ES256 tokens at /);
    expect(refused.stderr).not.toMatch(STACK_FRAME);
    const forced = await sandbox.cli(['keys', 'retire', `--kid=${kids[0]!}`, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(parseJsonOutput(forced).key).toMatchObject({ kid: kids[0], status: 'retired' });
    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'keys.retired' }));
    expect(events[0]?.details).toEqual({ actor: 'cli', kid: kids[0], alg: 'ES256', forced: true, pending: true });
  }, SEVERAL_CLI_RUNS);

  it('--now signs at once and says what resource servers may do; bad arguments are usage errors', async () => {
    const sandbox = await fresh();
    expect((await sandbox.cli(['keys', 'rotate'])).code).toBe(0);
    const now = await sandbox.cli(['keys', 'rotate', '--now']);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toContain('resource servers that\nfetched our JWKS in the last 30 s may refuse the new tokens for up to 30 s');
    const newKids = now.stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());
    const listed = parseJsonOutput(await sandbox.cli(['keys', 'list', '--json'])).keys as { kid: string; status: string }[];
    expect(listed.filter((key) => key.status === 'signing').map((key) => key.kid).sort()).toEqual(newKids.sort());
    expect(listed.filter((key) => key.status === 'pending')).toEqual([]);

    for (const [args, message] of [
      [['keys', 'rotate', '--now=yes'], 'error: keys rotate: --now takes no value'],
      [['keys', 'rotate', '--ahead', '0'], 'error: keys rotate: unknown option --ahead'],
      [['keys', 'rotate', '--now', 'please'], 'error: keys rotate: unexpected argument please'],
    ] as const) {
      const bad = await sandbox.cli([...args]);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr, args.join(' ')).toContain(message);
    }
    const invalid = await sandbox.cli(['keys', 'rotate'], { KEY_PUBLISH_AHEAD_SECONDS: '-5' });
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('KEY_PUBLISH_AHEAD_SECONDS');
    expect(await sandbox.withDb(async (db) => (await db.query('SELECT 1 FROM signing_keys')).rowCount)).toBe(6);
  }, SEVERAL_CLI_RUNS);

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
    expect(partial.stderr.trim()).toBe('error: unknown command "client"; did you mean client add or client list or client disable or client enable or client delete or client diagnose?');

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
