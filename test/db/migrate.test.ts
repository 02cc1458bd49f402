// Forward-only migrations: ordering, bookkeeping, idempotence, concurrent migrators, refused file names,
// and the repository's real migrations folder. Runs on PostgreSQL or PGlite like the other db tests.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, listMigrationFiles, migrate, pendingMigrations } from '../../src/db/migrate.ts';
import { createTestDb, type TestDb } from '../helpers/test-db.ts';

let testDb: TestDb;
let dir: string;

async function writeMigrations(files: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
}

beforeEach(async () => {
  testDb = await createTestDb();
  dir = await mkdtemp(join(tmpdir(), 'portcullis-migrations-'));
  await writeMigrations({
    '0001_widgets.sql': 'CREATE TABLE widgets (id int PRIMARY KEY);\nINSERT INTO widgets VALUES (1);',
    '0002_gadgets.sql': 'CREATE TABLE gadgets (id int PRIMARY KEY);',
  });
});

afterEach(async () => {
  await testDb.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe('migrate', () => {
  it('applies every file in order on an empty database, records them, then applies nothing', async () => {
    const { db } = testDb;
    expect(await pendingMigrations(db, dir)).toEqual(['0001', '0002']);
    expect(await migrate(db, dir)).toEqual(['0001', '0002']);
    const recorded = await db.query<{ version: string; name: string; applied_at: Date }>(
      'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
    );
    expect(recorded.rows.map(({ version, name }) => ({ version, name }))).toEqual([
      { version: '0001', name: 'widgets' },
      { version: '0002', name: 'gadgets' },
    ]);
    expect(recorded.rows[0]?.applied_at).toBeInstanceOf(Date);
    expect((await db.query('SELECT id FROM widgets')).rows).toEqual([{ id: 1 }]);

    expect(await migrate(db, dir)).toEqual([]);
    expect(await pendingMigrations(db, dir)).toEqual([]);
    expect((await db.query('SELECT id FROM widgets')).rowCount).toBe(1);
  });

  it('applies only the files added since the last run', async () => {
    expect(await migrate(testDb.db, dir)).toEqual(['0001', '0002']);
    await writeMigrations({ '0003_more.sql': 'ALTER TABLE gadgets ADD COLUMN label text;' });
    expect(await pendingMigrations(testDb.db, dir)).toEqual(['0003']);
    expect(await migrate(testDb.db, dir)).toEqual(['0003']);
  });

  it('applies each file exactly once when two migrators race', async () => {
    // On Postgres two pools stand for two server processes starting together; on PGlite (one session)
    // the two calls interleave on the same database.
    const other = testDb.secondPool?.() ?? testDb.db;
    const [first, second] = await Promise.all([migrate(testDb.db, dir), migrate(other, dir)]);
    expect([...first, ...second].sort()).toEqual(['0001', '0002']);
    expect((await testDb.db.query('SELECT id FROM widgets')).rowCount).toBe(1);
    expect((await testDb.db.query('SELECT version FROM schema_migrations')).rowCount).toBe(2);
  });

  it('rolls back a failing file completely and does not record it', async () => {
    await writeMigrations({ '0003_broken.sql': 'CREATE TABLE half (id int);\nSELECT no_such_function();' });
    await expect(migrate(testDb.db, dir)).rejects.toThrow(/Migration 0003_broken\.sql failed: .*no_such_function/);
    expect(await pendingMigrations(testDb.db, dir)).toEqual(['0003']);
    const half = await testDb.db.query<{ found: string | null }>(`SELECT to_regclass('half')::text AS found`);
    expect(half.rows[0]?.found).toBeNull();
  });

  it.each(['1_short.sql', '0001-dash.sql', '0001_Upper.sql', '0001_name.SQL', 'README.md', '00001_five.sql'])(
    'refuses a folder containing %s with a clear error',
    async (badName) => {
      await writeMigrations({ [badName]: 'SELECT 1;' });
      const expected = `Migration file name ${JSON.stringify(badName)} in ${dir} is not NNNN_name.sql`;
      await expect(migrate(testDb.db, dir)).rejects.toThrow(expected);
      // Refused before touching the database.
      const table = await testDb.db.query<{ found: string | null }>(`SELECT to_regclass('schema_migrations')::text AS found`);
      expect(table.rows[0]?.found).toBeNull();
    },
  );

  it('refuses two files with the same version', async () => {
    await writeMigrations({ '0002_again.sql': 'SELECT 1;' });
    await expect(listMigrationFiles(dir)).rejects.toThrow(/0002_again\.sql and 0002_gadgets\.sql .* share version 0002/);
  });

  it("applies the repository's real migrations folder, once", async () => {
    // Whatever is in migrations/ today (0001_initial.sql is written by another part of the project).
    const versions = (await listMigrationFiles(DEFAULT_MIGRATIONS_DIR)).map((file) => file.version);
    expect(await migrate(testDb.db)).toEqual(versions);
    expect(await migrate(testDb.db)).toEqual([]);
    expect(await pendingMigrations(testDb.db)).toEqual([]);
  });
});
