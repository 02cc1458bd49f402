// Notices when the database's disk is full (PostgreSQL 53100 disk_full, or ENOSPC from PGlite's files)
// so /readyz can say so, and notices it is over when a write succeeds again: no restart needed.
import type { Db, Queryable, QueryResult, Transaction } from './db.ts';
import { log } from '../log.ts';

// With no write to prove the disk has room again, stop reporting it after this long: a load balancer
// that took us out of rotation would otherwise never send the request that proves recovery.
const REPORT_WITHOUT_WRITES_MS = 30_000;
const WRITE_STATEMENT = /^\s*(INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP)\b/i;

export interface DiskFullWatch {
  /** The Db to hand to the app: the same calls, watched. */
  readonly db: Db;
  /** When the disk was last found full, while that still stands; undefined when writes work. */
  fullSince(): Date | undefined;
}

export function isDiskFull(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (code === '53100' || code === 'ENOSPC' || code === 'EDQUOT') return true;
  return 'cause' in error && error.cause !== error && isDiskFull(error.cause);
}

export function watchDiskFull(db: Db, now: () => number = Date.now): DiskFullWatch {
  let firstFailureAt: number | undefined;
  let lastFailureAt = 0;
  const failed = (error: unknown): never => {
    if (isDiskFull(error)) {
      if (firstFailureAt === undefined) log.error('the database disk is full: writes fail (503) until space is freed', { code: (error as { code?: string }).code });
      firstFailureAt ??= now();
      lastFailureAt = now();
    }
    throw error;
  };
  const succeeded = (isWrite: boolean): void => {
    if (isWrite && firstFailureAt !== undefined) {
      log.info('the database accepts writes again');
      firstFailureAt = undefined;
    }
  };
  const watched = <T>(run: () => Promise<T>, isWrite: boolean): Promise<T> =>
    run().then((result) => { succeeded(isWrite); return result; }, failed);
  const watchQueries = (target: Queryable) => <Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> =>
    watched(() => target.query<Row>(sql, params), WRITE_STATEMENT.test(sql));

  return {
    db: {
      get kind() { return db.kind; },
      query: watchQueries(db),
      exec: (sql) => watched(() => db.exec(sql), true),
      // A committed transaction wrote (or could have): space is back.
      transaction: <T>(work: (tx: Transaction) => Promise<T>) =>
        watched(() => db.transaction((tx) => work({ query: watchQueries(tx), exec: (sql) => tx.exec(sql) })), true),
      close: () => db.close(),
      ...(db.poolStats ? { poolStats: () => db.poolStats!() } : {}),
    },
    fullSince() {
      if (firstFailureAt === undefined) return undefined;
      if (now() - lastFailureAt > REPORT_WITHOUT_WRITES_MS) {
        firstFailureAt = undefined;
        return undefined;
      }
      return new Date(firstFailureAt);
    },
  };
}
