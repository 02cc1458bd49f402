// A Db that passes every call through and counts the statements sent to the database, by kind, so
// benchmarks and tests can hold each grant type to a round-trip budget. Bookkeeping only.
import type { Db, QueryResult, Transaction } from './db.ts';

/** read: SELECT; consume: an UPDATE that sets consumed_at; write: any other INSERT/UPDATE/DELETE. */
export type StatementKind = 'read' | 'consume' | 'write' | 'other';

export interface CountedStatement {
  kind: StatementKind;
  /** The statement with its whitespace collapsed. */
  sql: string;
  /** For statements on oidc_models, the models they name (Client, Grant, RefreshToken …), joined by '+'. */
  model?: string;
  /** Ran inside db.transaction(), whose BEGIN and COMMIT are counted in `transactions`. */
  inTransaction: boolean;
}

export interface RoundTripSnapshot {
  read: number;
  consume: number;
  write: number;
  other: number;
  /** Transactions opened; each adds two round trips (BEGIN, COMMIT) not listed in `statements`. */
  transactions: number;
  /** Every round trip: the statements plus BEGIN and COMMIT of each transaction. */
  total: number;
  statements: CountedStatement[];
}

export interface CountingDb extends Db {
  /** Forgets everything counted so far. */
  reset(): void;
  /** The counts since the last reset (a copy: later statements do not change it). */
  snapshot(): RoundTripSnapshot;
}

const collapse = (sql: string) => sql.replace(/--[^\n]*/g, ' ').replace(/\s+/g, ' ').trim();

/** A statement's first keyword in upper case (SELECT, WITH, INSERT …), past comments and an opening parenthesis. */
export const leadingKeyword = (sql: string): string | undefined => /^\(?\s*([a-z]+)/i.exec(collapse(sql))?.[1]?.toUpperCase();

/** Classifies one statement by its leading keyword (and, for UPDATE, whether it sets consumed_at). */
export function classifyStatement(sql: string): StatementKind {
  const text = collapse(sql);
  const keyword = leadingKeyword(text);
  switch (keyword) {
    case 'SELECT':
    case 'VALUES':
    case 'TABLE':
      return 'read';
    case 'WITH':
      // A data-modifying CTE writes; a plain one only reads.
      return /\b(INSERT|UPDATE|DELETE)\b/i.test(text) ? 'write' : 'read';
    case 'UPDATE':
      // Only the SET list counts: `WHERE consumed_at = …` does not make a consume.
      return /\bconsumed_at\s*=/i.test(/\bSET\b(.*?)(?:\bWHERE\b|\bFROM\b|\bRETURNING\b|$)/i.exec(text)?.[1] ?? '')
        ? 'consume' : 'write';
    case 'INSERT':
    case 'DELETE':
    case 'MERGE':
      return 'write';
    default:
      return 'other';
  }
}

// oidc-provider's model names: the only parameter values ever copied into a snapshot (never a token).
const MODELS = new Set(['Session', 'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'ClientCredentials',
  'Client', 'InitialAccessToken', 'RegistrationAccessToken', 'Interaction', 'ReplayDetection',
  'PushedAuthorizationRequest', 'Grant', 'BackchannelAuthenticationRequest']);

/** The models a statement on oidc_models names, as parameters or as literals, joined by '+'. */
export function modelsNamed(sql: string, params: readonly unknown[] | undefined): string | undefined {
  const literals = [...sql.matchAll(/'([A-Za-z]+)'/g)].map((match) => match[1]);
  const named = [...new Set([...(params ?? []), ...literals])].filter((value): value is string =>
    typeof value === 'string' && MODELS.has(value));
  return named.length ? named.join('+') : undefined;
}

export function countingDb(inner: Db): CountingDb {
  let statements: CountedStatement[] = [];
  let transactions = 0;
  const record = (sql: string, params: readonly unknown[] | undefined, inTransaction: boolean) => {
    const model = /\boidc_models\b/.test(sql) ? modelsNamed(sql, params) : undefined;
    statements.push({ kind: classifyStatement(sql), sql: collapse(sql), inTransaction, ...(model ? { model } : {}) });
  };

  return {
    kind: inner.kind,
    query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      record(sql, params, false);
      return inner.query<Row>(sql, params);
    },
    exec(sql: string): Promise<void> {
      record(sql, undefined, false);
      return inner.exec(sql);
    },
    transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      transactions += 1;
      return inner.transaction((tx) =>
        work({
          query<Row>(sql: string, params?: readonly unknown[]) {
            record(sql, params, true);
            return tx.query<Row>(sql, params);
          },
          exec(sql: string) {
            record(sql, undefined, true);
            return tx.exec(sql);
          },
        }),
      );
    },
    close: () => inner.close(),
    reset() {
      statements = [];
      transactions = 0;
    },
    snapshot() {
      const count = (kind: StatementKind) => statements.filter((s) => s.kind === kind).length;
      return {
        read: count('read'),
        consume: count('consume'),
        write: count('write'),
        other: count('other'),
        transactions,
        total: statements.length + 2 * transactions,
        statements: statements.map((s) => ({ ...s })),
      };
    },
  };
}
