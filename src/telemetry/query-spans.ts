// One client span per database statement, and one around each transaction, inside a traced request.
// Attributes name the operation, the table and oidc-provider's model; never a bound parameter or a row.
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import type { Db, Queryable, QueryResult, Transaction } from '../db/db.ts';
import { leadingKeyword, modelsNamed } from '../db/counting-db.ts';
import { errorType } from './error-type.ts';

// The first table a plain statement reads or writes: `FROM x`, `INTO x`, `UPDATE x` (an identifier, not data).
const FIRST_TABLE = /\b(?:FROM|INTO|UPDATE)\s+([a-z_][a-z0-9_]*)\b/i;

function statementAttributes(db: Db, sql: string, params: readonly unknown[] | undefined): Attributes {
  const operation = leadingKeyword(sql) ?? 'OTHER';
  const table = FIRST_TABLE.exec(sql)?.[1]?.toLowerCase();
  // Only names from oidc-provider's fixed list of models are ever read out of the parameters.
  const model = table === 'oidc_models' ? modelsNamed(sql, params) : undefined;
  return {
    // PGlite is PostgreSQL too; the engine is told apart by its own attribute.
    'db.system.name': 'postgresql',
    'portcullis.db.engine': db.kind,
    'db.operation.name': operation,
    ...(table ? { 'db.collection.name': table } : {}),
    ...(model ? { 'portcullis.oidc.model': model } : {}),
  };
}

export function querySpans(tracer: Tracer, db: Db): Db {
  const traced = <T>(attributes: Attributes, run: () => Promise<T>): Promise<T> => {
    // Outside a request (timers, startup) a statement would be a trace of its own: noise, not followed.
    if (!trace.getSpan(context.active())) return run();
    const operation = String(attributes['db.operation.name']);
    const table = attributes['db.collection.name'];
    const name = table ? `${operation} ${String(table)}` : operation;
    return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        return await run();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', errorType(error));
        throw error;
      } finally {
        span.end();
      }
    });
  };
  const tracedQueries = (target: Queryable) => <Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> =>
    traced(statementAttributes(db, sql, params), () => target.query<Row>(sql, params));
  const tracedExec = (target: { exec(sql: string): Promise<void> }) => (sql: string): Promise<void> =>
    traced(statementAttributes(db, sql, undefined), () => target.exec(sql));
  const transactionAttributes: Attributes = { 'db.system.name': 'postgresql', 'portcullis.db.engine': db.kind, 'db.operation.name': 'TRANSACTION' };

  return {
    get kind() { return db.kind; },
    query: tracedQueries(db),
    exec: tracedExec(db),
    transaction: <T>(work: (tx: Transaction) => Promise<T>) =>
      traced(transactionAttributes, () => db.transaction((tx) => work({ query: tracedQueries(tx), exec: tracedExec(tx) }))),
    close: () => db.close(),
    ...(db.poolStats ? { poolStats: () => db.poolStats!() } : {}),
  };
}
