// Whether DATA_DIR already holds an embedded database, read before anything is created there: the CLI
// warns when it is about to create one where no server has run (a mistyped DATA_DIR).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** PGlite's data directory inside DATA_DIR. */
export const pgliteDataPath = (dataDir: string) => join(dataDir, 'pgdata');

/**
 * `exists`: a database is there. Otherwise opening creates one, in a DATA_DIR that is `missing` (it
 * will be created too), `empty` (made for this on purpose, as a volume or `mkdir` is: a typo cannot
 * create a directory), or `not-empty` without a database (a wrong directory, or one holding only the
 * secrets of a server that runs on PostgreSQL).
 */
export type EmbeddedDatabaseState = 'exists' | 'missing' | 'empty' | 'not-empty';

export function embeddedDatabaseState(dataDir: string): EmbeddedDatabaseState {
  // PG_VERSION is the first file initdb writes and what PostgreSQL itself checks for a data directory.
  if (existsSync(join(pgliteDataPath(dataDir), 'PG_VERSION'))) return 'exists';
  if (!existsSync(dataDir)) return 'missing';
  try {
    return readdirSync(dataDir).length === 0 ? 'empty' : 'not-empty';
  } catch {
    // Not a directory, or unreadable: opening it fails with its own message.
    return 'not-empty';
  }
}
