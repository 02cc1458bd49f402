// Forward-only schema migrations: plain SQL files NNNN_name.sql applied in order, one transaction each,
// recorded in schema_migrations. Safe to run from several processes at once (see the advisory lock).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.ts';

export interface MigrationFile {
  /** The four digits, e.g. '0001': the primary key in schema_migrations. */
  version: string;
  /** The part after the underscore, e.g. 'initial'. */
  name: string;
  path: string;
}

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

// Any fixed number works as long as nothing else in the database uses it; every migrator takes this one
// lock inside its transaction, so concurrent starts (several replicas, or a server and a CLI) queue up
// and the loser re-checks schema_migrations instead of applying a file twice. Advisory locks are
// per-database, and PGlite accepts them too (trivially, being one session).
const MIGRATION_LOCK_KEY = 4_071_952_117;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    text PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** The migration files in `dir`, in order; refuses a folder holding anything but NNNN_name.sql. */
export async function listMigrationFiles(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  // Dot-files (.gitkeep, editor swap files) are ignored; everything else must be a migration, so a
  // misnamed file is an error at startup instead of a migration that silently never runs.
  const entries = (await readdir(dir)).filter((entry) => !entry.startsWith('.')).sort();
  const files: MigrationFile[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const match = FILE_PATTERN.exec(entry);
    if (match?.[1] === undefined || match[2] === undefined) {
      throw new Error(
        `Migration file name ${JSON.stringify(entry)} in ${dir} is not NNNN_name.sql ` +
          `(four digits, an underscore, lower-case snake_case, .sql), e.g. 0002_add_client_logos.sql`,
      );
    }
    const [, version, name] = match;
    const clash = seen.get(version);
    if (clash !== undefined) throw new Error(`Migrations ${clash} and ${entry} in ${dir} share version ${version}`);
    seen.set(version, entry);
    files.push({ version, name, path: join(dir, entry) });
  }
  return files;
}

/** Applies every pending migration in order; returns the versions it applied (none when up to date). */
export async function migrate(db: Db, migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const files = await listMigrationFiles(migrationsDir);
  // Under the lock: two concurrent CREATE TABLE IF NOT EXISTS can both try to create it and one fails.
  await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.query(CREATE_TABLE);
  });
  const alreadyApplied = await appliedVersions(db);
  const applied: string[] = [];
  for (const file of files) {
    if (alreadyApplied.has(file.version)) continue;
    const sql = await readFile(file.path, 'utf8');
    const didApply = await db.transaction(async (tx) => {
      await lockMigrations(tx);
      // Re-check under the lock: another migrator may have applied it since we listed.
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [file.version]);
      if (done.rowCount > 0) return false;
      try {
        await tx.exec(sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`Migration ${file.version}_${file.name}.sql failed: ${reason}`, { cause: error });
      }
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [file.version, file.name]);
      return true;
    });
    if (didApply) applied.push(file.version);
  }
  return applied;
}

/** Versions present as files but not yet applied: for readiness checks ("is this database current?"). */
export async function pendingMigrations(db: Db, migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const files = await listMigrationFiles(migrationsDir);
  const exists = await db.query<{ found: string | null }>(`SELECT to_regclass('schema_migrations')::text AS found`);
  const applied = exists.rows[0]?.found ? await appliedVersions(db) : new Set<string>();
  return files.filter((file) => !applied.has(file.version)).map((file) => file.version);
}

async function lockMigrations(tx: Queryable): Promise<void> {
  // A migration (an index build) or the wait for another replica's may rightly outlast the server's
  // DB_STATEMENT_TIMEOUT_MS, which is meant for requests; SET LOCAL lifts it for this transaction only.
  await tx.query('SET LOCAL statement_timeout = 0');
  // The transaction-scoped form releases itself at COMMIT or ROLLBACK, even if this process dies.
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
}

async function appliedVersions(db: Queryable): Promise<Set<string>> {
  const result = await db.query<{ version: string }>('SELECT version FROM schema_migrations');
  return new Set(result.rows.map((row) => row.version));
}
