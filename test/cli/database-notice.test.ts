// The real CLI names the database it works on (at a terminal, on stderr) and warns before it creates a
// new embedded database in a DATA_DIR no server has used: a mistyped DATA_DIR is no longer silent.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDatabase } from '../../src/cli/database-notice.ts';
import { createSandbox, parseJsonOutput, REPO_ROOT, type Sandbox } from './harness.ts';

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => { await sandbox.cleanup(); });

const warning = (dataDir: string) => `warning: DATA_DIR ${dataDir}`;

describe.skipIf(process.env.DATABASE_URL)('a new embedded database', () => {
  it('a DATA_DIR that does not exist: one warning naming it, then the command runs and stdout is its JSON alone', async () => {
    const typo = join(sandbox.dataDir, 'portcullsi');
    const first = await sandbox.cli(['user', 'list', '--json'], { DATA_DIR: typo });
    expect(first.code, first.stderr).toBe(0);
    expect(parseJsonOutput(first)).toEqual({ users: [] });
    const lines = first.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${warning(typo)} does not exist: creating a new, empty embedded database there, which no server has used. ` +
      'If your server runs with another DATA_DIR, or with DATABASE_URL, set the same for the CLI.');
    expect(lines.slice(1).join('\n')).toMatch(/^note: applied migrations 0001/);

    // Created now: the next command works on it without a word.
    const second = await sandbox.cli(['user', 'list', '--json'], { DATA_DIR: typo });
    expect(second.stderr).toBe('');
  });

  it('a DATA_DIR with other files but no database (the secrets of a server on PostgreSQL, say) is warned about', async () => {
    const secretsOnly = join(sandbox.dataDir, 'secrets-only');
    mkdirSync(secretsOnly, { mode: 0o700 });
    writeFileSync(join(secretsOnly, 'secrets.json'), '{}', { mode: 0o600 });
    const result = await sandbox.cli(['user', 'list', '--json'], { DATA_DIR: secretsOnly });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${warning(secretsOnly)} holds no database: creating a new, empty embedded database there`);
  });

  it('an empty DATA_DIR someone made for it (mkdir, a volume) gets no warning', async () => {
    const made = join(sandbox.dataDir, 'made-for-it');
    mkdirSync(made, { mode: 0o700 });
    const result = await sandbox.cli(['user', 'list', '--json'], { DATA_DIR: made });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('warning');
  });
});

describe('which database, at a terminal', () => {
  it('is named on stderr when stderr is a terminal, while the JSON on stdout stays clean', () => {
    // script(1) gives the command a terminal; stdout goes to a file, as `… --json > out.json` does.
    const out = join(sandbox.dataDir, 'out.json');
    const result = spawnSync('script', ['-qec', `node_modules/.bin/tsx src/cli.ts user list --json > ${out}`, '/dev/null'], {
      cwd: REPO_ROOT, env: sandbox.env, encoding: 'utf8', timeout: 100_000,
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ users: [] });
    const expected = sandbox.engine === 'pglite'
      ? `note: using embedded PGlite in DATA_DIR ${sandbox.dataDir}`
      : /note: using PostgreSQL 127\.0\.0\.1:5432\/test as postgres \(DATABASE_URL\)/;
    expect(result.stdout).toMatch(expected);
  });

  it('is not printed to a pipe: scripts keep stderr for errors and warnings', async () => {
    const result = await sandbox.cli(['user', 'list', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('note: using');
  });

  it('never shows the password or the connection options of DATABASE_URL', () => {
    expect(describeDatabase({ databaseUrl: 'postgres://app:s3cret@db.internal:6543/portcullis?sslmode=require', dataDir: '/data' }))
      .toBe('PostgreSQL db.internal:6543/portcullis as app (DATABASE_URL)');
  });
});
