// Appends security events to `audit_events` (append-only: migration 0007) and reads them back.
// Callers pass what happened; never a token, code or password. Each event is also logged and counted.
import type { Queryable } from '../db/db.ts';
import type { AuditActor, AuditEvent, AuditEventType } from './event.ts';
import { actorOf, announceAuditEvents } from './observers.ts';

export type { AuditActor, AuditEvent, AuditEventType } from './event.ts';

export async function recordAuditEvent(db: Queryable, event: AuditEvent): Promise<void> {
  await recordAuditEvents(db, [event]);
}

export interface StoredAuditEvent {
  id: string;
  occurred_at: Date;
  event_type: AuditEventType;
  outcome: string;
  actor_type: AuditActor['type'] | null;
  actor_id: string | null;
  account_id: string | null;
  client_id: string | null;
  resource: string | null;
  scopes: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

// `id` comes back as text (bigint-safe): order by `audit_events.id`, or the text column sorts "10" before "9".
export const STORED_AUDIT_COLUMNS = `id::text, occurred_at, event_type, outcome, actor_type, actor_id, account_id, client_id,
  resource, scopes, ip, user_agent, request_id, details`;

export async function listAuditEvents(db: Queryable, filter: { type?: AuditEventType; limit?: number } = {}): Promise<StoredAuditEvent[]> {
  const { rows } = await db.query<StoredAuditEvent>(
    `SELECT ${STORED_AUDIT_COLUMNS}
     FROM audit_events WHERE ($1::text IS NULL OR event_type = $1) ORDER BY audit_events.id DESC LIMIT $2`,
    [filter.type ?? null, filter.limit ?? 100],
  );
  return rows;
}

const COLUMNS = 12;
const COLUMN_LIST = `event_type, outcome, actor_type, actor_id, account_id, client_id, resource, scopes, ip,
       user_agent, request_id, details`;

function rowValues(event: AuditEvent): unknown[] {
  const actor = actorOf(event);
  return [
    event.type, event.outcome ?? 'success', actor.type, actor.id ?? null, event.accountId ?? null,
    event.clientId ?? null, event.resource ?? null, event.scopes ?? null, event.ip ?? null,
    event.userAgent?.slice(0, 512) ?? null, event.requestId ?? null, JSON.stringify(event.details ?? {}),
  ];
}

/** Appends several events in one statement (one round trip, one commit). */
export async function recordAuditEvents(db: Queryable, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Logged and counted first: a line in the log survives a database that refuses the row.
  announceAuditEvents(db, events);
  const placeholders = events.map((_, row) =>
    `(${Array.from({ length: COLUMNS }, (_, column) => `$${row * COLUMNS + column + 1}`).join(', ')})`);
  await db.query(`INSERT INTO audit_events (${COLUMN_LIST}) VALUES ${placeholders.join(', ')}`, events.flatMap(rowValues));
}

/**
 * An INSERT of `events` for another write's statement to carry (a data-modifying CTE), its parameters
 * numbered from `first`, its rows kept only where `condition` (SQL over that statement's CTEs) holds:
 * the audit row then exists exactly when the write it describes does. Nothing is announced: the caller
 * calls announceAuditEvents once the statement says the rows were written.
 */
export function auditEventsInsert(events: readonly AuditEvent[], first: number, condition = 'true'): { sql: string; values: unknown[] } {
  // Typed parameters: inside a SELECT, PostgreSQL cannot infer them from the target columns.
  const rows = events.map((_, row) => `(${Array.from({ length: COLUMNS }, (_, column) =>
    `$${first + row * COLUMNS + column}::${column === COLUMNS - 1 ? 'jsonb' : 'text'}`).join(', ')})`);
  return {
    sql: `INSERT INTO audit_events (${COLUMN_LIST}) SELECT * FROM (VALUES ${rows.join(', ')}) AS event WHERE ${condition}`,
    values: events.flatMap(rowValues),
  };
}

export { announceAuditEvents } from './observers.ts';
