// A fresh, empty database per call for tests: a throw-away schema on PostgreSQL when DATABASE_URL is
// set, otherwise an in-memory PGlite cloned from a cached template (initdb is too slow to run per test).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Db } from '../../src/db/db.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPgDb } from '../../src/db/pg-db.ts';
import { openPgliteDb } from '../../src/db/pglite-db.ts';

export interface TestDb {
  db: Db;
  /** Drops everything this test database holds and closes its connections (and those of secondPool). */
  cleanup(): Promise<void>;
  /** PostgreSQL only: another pool on the same schema, to test two processes racing. */
  secondPool?: () => Db;
}

export async function createTestDb(): Promise<TestDb> {
  const databaseUrl = process.env.DATABASE_URL;
  return databaseUrl ? createPostgresTestDb(databaseUrl) : createPgliteTestDb();
}

/** createTestDb() with the repository's migrations applied. */
export async function createMigratedTestDb(): Promise<TestDb> {
  const testDb = await createTestDb();
  try {
    await migrate(testDb.db);
  } catch (error) {
    await testDb.cleanup();
    throw error;
  }
  return testDb;
}

async function createPostgresTestDb(databaseUrl: string): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  // Schema DDL on its own connection: the test's pool has search_path set to the schema it creates.
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const db = createPgDb(databaseUrl, { searchPath: schema, max: 5 });
  const extraPools: Db[] = [];
  return {
    db,
    secondPool() {
      const pool = createPgDb(databaseUrl, { searchPath: schema, max: 5 });
      extraPools.push(pool);
      return pool;
    },
    async cleanup() {
      await Promise.all([db, ...extraPools].map((pool) => pool.close()));
      const dropper = new pg.Client({ connectionString: databaseUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await dropper.end();
      }
    },
  };
}

// Measured on this machine: PGlite.create() in memory runs initdb, about 1.8–2.4 s every time; loading a
// dumpDataDir() tarball of a fresh cluster takes about 0.3–0.45 s. So the first test process ever builds
// the template once and caches it under .test-data/ (git-ignored), keyed by PGlite's version since the
// tarball is only valid for the same Postgres build; every later open in every worker is a clone.
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
let template: Promise<Blob> | undefined;

async function createPgliteTestDb(): Promise<TestDb> {
  template ??= loadOrBuildTemplate();
  const db = await openPgliteDb(undefined, { loadDataDir: await template });
  return { db, cleanup: () => db.close() };
}

async function loadOrBuildTemplate(): Promise<Blob> {
  const manifest: unknown = JSON.parse(
    await readFile(`${REPO_ROOT}node_modules/@electric-sql/pglite/package.json`, 'utf8'),
  );
  const version =
    typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string'
      ? manifest.version
      : 'unknown';
  const cacheDir = `${REPO_ROOT}.test-data`;
  const cacheFile = `${cacheDir}/pglite-template-${version}.tar`;
  try {
    return new Blob([await readFile(cacheFile)]);
  } catch {
    // Not cached yet: build it below.
  }
  const fresh = await openPgliteDb(undefined);
  const tarball = await fresh.pglite.dumpDataDir('none');
  await fresh.close();
  await mkdir(cacheDir, { recursive: true });
  // Write then rename: parallel workers racing to build it never read a half-written file.
  const partial = `${cacheFile}.${process.pid}.partial`;
  await writeFile(partial, new Uint8Array(await tarball.arrayBuffer()));
  await rename(partial, cacheFile);
  return tarball;
}
