// Tells "the database cannot serve us right now" (unreachable, too slow, disk full) apart from "this
// query is wrong", so the HTTP layer can answer the first with 503 + Retry-After and log the second as a bug.

/** Our own wait for the database gave up (PGlite's queue, see pglite-db.ts): the database is too busy. */
export class DatabaseBusyError extends Error {
  readonly code = 'DATABASE_BUSY';

  constructor(waitedMs: number) {
    super(`the database did not take the query within ${waitedMs} ms`);
    this.name = 'DatabaseBusyError';
  }
}

// Socket-level failures from Node's net/dns: the server is down, unknown, unreachable or hung up.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  // The disk under PGlite's files (or a socket's) is full: writes fail until space is freed.
  'ENOSPC',
  'DATABASE_BUSY',
]);

// SQLSTATEs (PostgreSQL manual, appendix A) that mean "try again later", not "your SQL is wrong":
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or in recovery),
// 57014 query_canceled (our statement_timeout fired: the database is too slow), 55P03 lock_not_available.
// Class 08 (connection_exception) and class 53 (insufficient_resources: 53100 disk_full, 53200
// out_of_memory, 53300 too_many_connections) are matched by prefix below.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '55P03']);

// `pg` reports lost or timed-out connections as plain Errors without a code; these are its messages.
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  return check(error, 0);
}

function check(error: unknown, depth: number): boolean {
  // Errors nest through `cause` (our wrappers) and AggregateError (Node tries IPv4 and IPv6 in turn).
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const code = stringField(error, 'code');
  if (code !== undefined) {
    if (NETWORK_CODES.has(code)) return true;
    // A unix socket that isn't there (the embedded server is not running), but not a missing file.
    if (code === 'ENOENT' && stringField(error, 'syscall') === 'connect') return true;
    if (/^(08|53)[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
  }
  const message = stringField(error, 'message');
  if (message !== undefined && PG_CONNECTION_MESSAGES.some((known) => message.startsWith(known))) return true;
  if ('errors' in error && Array.isArray(error.errors) && error.errors.some((inner) => check(inner, depth + 1))) {
    return true;
  }
  return 'cause' in error && check(error.cause, depth + 1);
}

function stringField(value: object, key: string): string | undefined {
  const field: unknown = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}
