// The Db interface over embedded PGlite (Postgres compiled to WebAssembly, in this process): the
// default when DATABASE_URL is unset, and the engine of the test suite.
import { PGlite, type Results } from '@electric-sql/pglite';
import { parseInt8, type Db, type QueryResult, type Transaction } from './db.ts';
import { DatabaseBusyError } from './database-unavailable.ts';

export type PgliteDb = Db & { readonly pglite: PGlite };

export interface OpenPgliteOptions {
  /** A tarball from `dumpDataDir()` to start from instead of running initdb (tests clone a template). */
  loadDataDir?: Blob;
  /**
   * How long a query or transaction may wait for its turn (PGlite runs one at a time; a CLI command
   * through the socket, or a slow transaction, holds the turn) before failing with DatabaseBusyError.
   */
  queueWaitMillis?: number;
}

const INT8_OID = 20;

/**
 * Opens PGlite on `dataDir` (a directory on disk), or in memory when it is undefined.
 * PGlite serialises queries and transactions itself (one Postgres session behind two mutexes), so
 * nothing here queues; a socket served from the same instance coordinates in pglite-session-gate.ts.
 */
export async function openPgliteDb(dataDir: string | undefined, options: OpenPgliteOptions = {}): Promise<PgliteDb> {
  const pglite = await PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }),
    // PGlite's default turns int8 into a BigInt past 2^53; match pg-db.ts exactly instead (see db.ts).
    parsers: { [INT8_OID]: parseInt8 },
  });
  const waitForTurn = (): Promise<void> => waitForPgliteTurn(pglite, options.queueWaitMillis);
  return {
    kind: 'pglite',
    pglite,
    async query<Row>(sql: string, params?: readonly unknown[]) {
      await waitForTurn();
      return toQueryResult(await pglite.query<Row>(sql, params === undefined ? [] : [...params]));
    },
    async exec(sql) {
      await waitForTurn();
      await pglite.exec(sql);
    },
    async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      await waitForTurn();
      // PGlite's own transaction(): BEGIN, COMMIT on resolve, ROLLBACK on throw, and it holds PGlite's
      // transaction mutex throughout so no other query of this process lands inside it.
      return pglite.transaction((pgliteTx) =>
        work({
          async query<Row>(sql: string, params?: readonly unknown[]) {
            return toQueryResult(await pgliteTx.query<Row>(sql, params === undefined ? [] : [...params]));
          },
          async exec(sql) {
            await pgliteTx.exec(sql);
          },
        }),
      );
    },
    async close() {
      await pglite.close();
    },
  };
}

/**
 * Waits until PGlite's transaction mutex (the one query, exec and transaction take) is free, or throws
 * DatabaseBusyError after `waitMs`. The probe queued in the mutex is a no-op, so a request that gave up
 * leaves nothing behind that runs later: its real statement is never queued. (The statement queues
 * again after the probe; something that slips in between can still make it wait longer.)
 */
async function waitForPgliteTurn(pglite: PGlite, waitMs: number | undefined): Promise<void> {
  if (waitMs === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DatabaseBusyError(waitMs)), waitMs);
  });
  try {
    await Promise.race([pglite._runExclusiveTransaction(async () => {}), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

function toQueryResult<Row>(result: Results<Row>): QueryResult<Row> {
  // PGlite's rowCount comes from the command tag, exactly as pg's does; when it is missing (DDL), fall
  // back to the rows selected or the rows changed.
  const rowCount = result.rowCount ?? (result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0));
  return { rows: result.rows, rowCount };
}
