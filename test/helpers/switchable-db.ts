// A Db that forwards to the test database until a test switches it to a real unreachable PostgreSQL
// (a port nothing listens on), so the app sees the very errors of a database that went away.
import type { Db, Transaction } from '../../src/db/db.ts';
import { createPgDb } from '../../src/db/pg-db.ts';

export interface SwitchableDb extends Db {
  /** From now on every query fails the way a vanished database does (ECONNREFUSED). */
  goDown(): void;
  /** Queries reach the test database again. */
  comeBack(): void;
}

export function switchableDb(real: Db): SwitchableDb {
  const down: Db = createPgDb('postgres://postgres@127.0.0.1:1/postgres', { connectionTimeoutMillis: 1_000, onIdleClientError: () => {} });
  let target = real;
  return {
    get kind() { return real.kind; },
    query: (sql, params) => target.query(sql, params),
    exec: (sql) => target.exec(sql),
    transaction: <T>(work: (tx: Transaction) => Promise<T>) => target.transaction(work),
    // The test database is closed by its own cleanup; only the unreachable pool is ours.
    close: () => down.close(),
    goDown: () => { target = down; },
    comeBack: () => { target = real; },
  };
}
