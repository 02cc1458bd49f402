// The one database interface every store uses. Two implementations run the same SQL:
// PostgreSQL through a `pg` Pool (DATABASE_URL set) and embedded PGlite (the default).

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Something that runs parameterised SQL ($1, $2 …): the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
}

/** An open transaction: parameterised queries, plus `exec` so a migration file runs inside it. */
export interface Transaction extends Queryable {
  exec(sql: string): Promise<void>;
}

// Both engines return the same JavaScript values: int8 (count(*), bigserial) as a number, timestamptz
// as a Date, json/jsonb parsed. Pass JSON parameters as JSON.stringify(value): `pg` turns a JS array
// into a Postgres array literal, which a jsonb column rejects.
export interface Db extends Queryable {
  /** 'postgres' or 'pglite', for messages and for the few places where the engines differ (none in SQL). */
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Runs several statements separated by semicolons, without parameters (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /** A pg pool's connections right now (metrics); absent for PGlite, which is one session. */
  poolStats?(): { total: number; idle: number; waiting: number };
}

/** int8 text → number, for both engines; a value past 2^53 would silently lose digits, so it throws. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number`);
  return value;
}
