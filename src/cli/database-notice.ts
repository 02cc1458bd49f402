// What the CLI tells the operator about the database a command works on, on stderr (stdout carries
// the command's result alone): which one it is, and a warning before it creates a new embedded one.
import type { Config } from '../config.ts';
import type { EmbeddedDatabaseState } from '../db/embedded-database-state.ts';

/** The database in words, without the password or connection options DATABASE_URL may carry. */
export function describeDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (!config.databaseUrl) return `embedded PGlite in DATA_DIR ${config.dataDir}`;
  try {
    const url = new URL(config.databaseUrl);
    const user = url.username ? ` as ${decodeURIComponent(url.username)}` : '';
    return `PostgreSQL ${url.host || 'localhost'}${url.pathname}${user} (DATABASE_URL)`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

/**
 * Today's mistake this guards against: a mistyped DATA_DIR silently got a new, empty database, and the
 * operator's user or client went there instead of to the server's. No warning for an empty directory:
 * someone made it for the data (`mkdir`, a volume, a test's temporary directory), which a typo cannot.
 */
export function newDatabaseWarning(dataDir: string, before: Exclude<EmbeddedDatabaseState, 'exists'>): string | undefined {
  if (before === 'empty') return undefined;
  const what = before === 'missing' ? 'does not exist' : 'holds no database';
  return `warning: DATA_DIR ${dataDir} ${what}: creating a new, empty embedded database there, which no server ` +
    'has used. If your server runs with another DATA_DIR, or with DATABASE_URL, set the same for the CLI.';
}
