// Picks the database for a process: PostgreSQL when DATABASE_URL is set; otherwise embedded PGlite in
// DATA_DIR, owned by one process, which the CLI reaches through the server's socket while it runs.
import { resolve } from 'node:path';
import { acquireDataDirLock, DataDirInUseError } from './data-dir-lock.ts';
import { ensurePrivateDataDir, tightenDataDir } from './data-dir-modes.ts';
import type { Db, Transaction } from './db.ts';
import { embeddedDatabaseState, pgliteDataPath, type EmbeddedDatabaseState } from './embedded-database-state.ts';
import { createPgDb } from './pg-db.ts';
import { openPgliteDb } from './pglite-db.ts';
import { pgliteSocketPath, servePgliteOnSocket, type PgliteSocket } from './pglite-socket.ts';

export type DbRole = 'server' | 'cli';

export interface OpenDbOptions {
  /** When set, everything else is ignored: the server and the CLI both use this PostgreSQL. */
  databaseUrl?: string | undefined;
  /** Where the embedded database, its lock and its socket live. */
  dataDir: string;
  /** The server serves the embedded database on a socket; the CLI uses it when a server runs. */
  role: DbRole;
  /**
   * The server's bound on one statement and on the wait for a connection or PGlite's turn
   * (DB_STATEMENT_TIMEOUT_MS): past it the query fails as "database busy" and the request gets 503.
   */
  statementTimeoutMs?: number;
  /**
   * Called when this process is about to create a new embedded database (it holds DATA_DIR's lock and
   * no database is there yet), with what DATA_DIR held before: the CLI warns of a mistyped DATA_DIR.
   */
  beforeCreatingDatabase?: (before: Exclude<EmbeddedDatabaseState, 'exists'>) => void;
}

/** The CLI found a live holder of DATA_DIR but could not talk to it through the socket. */
export class DataDirSocketError extends Error {
  readonly code = 'DATA_DIR_SOCKET_UNREACHABLE';

  constructor(dataDir: string, holderPid: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `DATA_DIR ${dataDir} is in use by process ${holderPid}, but its socket ${pgliteSocketPath(dataDir)} ` +
        `did not answer (${reason}). Only a running Portcullis server serves that socket, to one CLI ` +
        `command at a time: if process ${holderPid} is another CLI command, wait for it to finish.`,
      { cause },
    );
    this.name = 'DataDirSocketError';
  }
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  const timeoutMs = options.statementTimeoutMs;
  if (options.databaseUrl) {
    return createPgDb(options.databaseUrl, timeoutMs === undefined ? {} : { statementTimeoutMillis: timeoutMs, connectionTimeoutMillis: timeoutMs });
  }
  if (options.role === 'server') return openEmbedded(options.dataDir, true, timeoutMs);
  try {
    return await openEmbedded(options.dataDir, false, undefined, options.beforeCreatingDatabase);
  } catch (error) {
    // Taking the lock is the test for "a server (or another CLI) runs": no window between check and use.
    if (!(error instanceof DataDirInUseError)) throw error;
    return connectThroughSocket(options.dataDir, error.pid);
  }
}

async function openEmbedded(
  dataDir: string, serveSocket: boolean, queueWaitMillis?: number, beforeCreating?: OpenDbOptions['beforeCreatingDatabase'],
): Promise<Db> {
  // Read before ensurePrivateDataDir creates DATA_DIR and the lock file lands in it.
  const before = embeddedDatabaseState(dataDir);
  // Private (0700/0600): the socket has no authentication, and the files are the whole database.
  ensurePrivateDataDir(dataDir);
  const lock = acquireDataDirLock(dataDir);
  let socket: PgliteSocket | undefined;
  try {
    // Only now, holding the lock: a DATA_DIR a running server holds is never "new".
    if (before !== 'exists') beforeCreating?.(before);
    const db = await openPgliteDb(pgliteDataPath(dataDir), queueWaitMillis === undefined ? {} : { queueWaitMillis });
    try {
      if (serveSocket) socket = await servePgliteOnSocket(db.pglite, dataDir);
      // PGlite's initdb files (0666) and its socket (umask-dependent) exist only now.
      tightenDataDir(dataDir);
    } catch (error) {
      await db.close();
      throw error;
    }
    return withClose(db, db.kind, async () => {
      try {
        // Socket first: it rolls back what a CLI left open and frees PGlite for close().
        await socket?.stop();
        await db.close();
        // What PGlite rewrote while it ran (its relcache files) is left private too.
        tightenDataDir(dataDir);
      } finally {
        lock.release();
      }
    });
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function connectThroughSocket(dataDir: string, holderPid: number): Promise<Db> {
  // A config object, not a URL: `host` is the directory holding .s.PGSQL.5432, as with libpq. The
  // socket server accepts any user and database name; these are PGlite's defaults.
  const db = createPgDb(
    // pg treats `host` as a unix-socket directory only when it is an absolute path.
    { host: resolve(dataDir), port: 5432, user: 'postgres', database: 'postgres' },
    // PGlite is one backend session for every socket client in turn: a statement one CLI command
    // prepared by name would still exist, and collide, when the next command prepares it again.
    { max: 1, connectionTimeoutMillis: 5_000, namedStatements: false },
  );
  // The socket server takes one client at a time and frees its slot a moment after a client leaves, so
  // a command run right after another is briefly refused; retry for about 1.5 s before giving up.
  for (const delayMs of [50, 100, 200, 400, 800, 0]) {
    try {
      await db.query('SELECT 1');
      break;
    } catch (error) {
      if (delayMs === 0) {
        await db.close().catch(() => {});
        throw new DataDirSocketError(dataDir, holderPid, error);
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  // The engine behind the socket is PGlite, whatever the driver.
  return withClose(db, 'pglite', () => db.close());
}

function withClose(db: Db, kind: Db['kind'], close: () => Promise<void>): Db {
  return {
    kind,
    query: <Row>(sql: string, params?: readonly unknown[]) => db.query<Row>(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: <T>(work: (tx: Transaction) => Promise<T>) => db.transaction(work),
    close,
    ...(db.poolStats ? { poolStats: db.poolStats } : {}),
  };
}
