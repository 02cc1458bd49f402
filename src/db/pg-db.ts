// The Db interface over a `pg` Pool: PostgreSQL when DATABASE_URL is set, and the CLI's connection to
// a running embedded server through its unix socket.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { parseInt8, type Db, type QueryResult, type Transaction } from './db.ts';

export interface PgDbOptions {
  /** Schema to put first on search_path; tests use it to give each test file its own schema. */
  searchPath?: string;
  /** Pool size (pg's default is 10). */
  max?: number;
  /** How long to wait for a connection before failing; without it a blackholed host hangs requests. */
  connectionTimeoutMillis?: number;
  /**
   * PostgreSQL's statement_timeout for every session of the pool: a statement stuck behind a lock or a
   * slow disk is cancelled (SQLSTATE 57014, answered 503) instead of holding the request and a connection.
   */
  statementTimeoutMillis?: number;
  /** Prepare each distinct statement once per connection (default true); off when the backend is shared. */
  namedStatements?: boolean;
  /** Called when an idle pooled connection dies (server restart, network cut); defaults to stderr. */
  onIdleClientError?: (error: Error) => void;
}

/** Connection settings other than pool-level ones: a URL, or host/port/user/database fields. */
export type PgConnection = string | Omit<pg.PoolConfig, 'max' | 'options' | 'types'>;

const INT8_OID = 20;

// Per-pool type parsers, so int8 comes back as a number as it does from PGlite (see db.ts), without
// touching pg's process-wide defaults.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as
    pg.CustomTypesConfig['getTypeParser'],
};

export function createPgDb(connection: PgConnection, options: PgDbOptions = {}): Db {
  if (options.searchPath !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.searchPath)) {
    // It is pasted into a startup option, so only plain lower-case identifiers are allowed.
    throw new Error(`searchPath must be a plain lower-case identifier, got ${JSON.stringify(options.searchPath)}`);
  }
  const pool = new pg.Pool({
    ...connectionSettings(connection, startupOptions(options)),
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    types,
  });
  // Without a listener, an idle client's error (e.g. the server restarting) is an uncaught 'error' event
  // and kills the process; the pool already discards that client, so reporting it is enough.
  const onIdleClientError =
    options.onIdleClientError ??
    ((error: Error) => process.stderr.write(`portcullis: idle database connection lost: ${error.message}\n`));
  pool.on('error', onIdleClientError);
  const named = options.namedStatements ?? true;

  return {
    kind: 'postgres',
    query: <Row>(sql: string, params?: readonly unknown[]) => runQuery<Row>(pool, sql, params, named),
    async exec(sql) {
      // No parameters → pg uses the simple query protocol, which accepts several statements.
      await pool.query(sql);
    },
    async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no pool listener; a connection drop between our queries would
      // otherwise be an uncaught 'error' event. The failing query rejects on its own.
      const ignore = (): void => {};
      client.on('error', ignore);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const tx: Transaction = {
          query: <Row>(sql: string, params?: readonly unknown[]) => runQuery<Row>(client, sql, params, named),
          exec: async (sql) => {
            await client.query(sql);
          },
        };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable: tell the pool to destroy it rather than reuse it mid-transaction.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.off('error', ignore);
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

/** The session settings every connection starts with (`-c name=value`, as libpq's `options`). */
function startupOptions(options: PgDbOptions): string | undefined {
  const settings = [
    options.searchPath === undefined ? undefined : `-c search_path=${options.searchPath}`,
    options.statementTimeoutMillis === undefined ? undefined : `-c statement_timeout=${Math.trunc(options.statementTimeoutMillis)}`,
  ].filter(Boolean);
  return settings.length > 0 ? settings.join(' ') : undefined;
}

/**
 * Connection settings with our startup options added to any the URL carries: pg lets a URL's
 * `options` override the config field, so they are merged here and taken out of the URL.
 */
function connectionSettings(connection: PgConnection, ours: string | undefined): pg.PoolConfig {
  if (typeof connection !== 'string') {
    return ours === undefined ? connection : { ...connection, options: ours };
  }
  if (ours === undefined) return { connectionString: connection };
  const url = URL.parse(connection);
  const existing = url?.searchParams.get('options');
  url?.searchParams.delete('options');
  return {
    connectionString: url ? url.toString() : connection,
    options: [existing, ours].filter(Boolean).join(' '),
  };
}

// Our SQL is a small fixed set of strings. Naming each one makes pg prepare it once per connection
// and reuse the plan, instead of PostgreSQL parsing and planning it on every call.
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `portcullis_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (statementNames.size < 1000) statementNames.set(sql, name);
  }
  return name;
}

async function runQuery<Row>(
  target: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly unknown[] | undefined,
  named: boolean,
): Promise<QueryResult<Row>> {
  // Statements without parameters may be several (migrations); they go through the simple protocol.
  const result = params === undefined
    ? await target.query(sql)
    : await target.query(named ? { name: statementName(sql), text: sql, values: [...params] } : { text: sql, values: [...params] });
  // Rows are whatever the SQL selects; the caller names their shape, as with PGlite.
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}
