// Reads audit events in the order they were written, a page at a time (keyset on id: timestamps come
// back as milliseconds but are stored in microseconds), so an export never holds more than one page. Used by `audit export` and the console.
import type { Queryable } from '../db/db.ts';
import { STORED_AUDIT_COLUMNS, type StoredAuditEvent } from './store.ts';

export interface AuditFilter {
  since: Date;
  /** Exclusive; absent: up to now. */
  until?: Date | undefined;
  type?: string | undefined;
  accountId?: string | undefined;
  clientId?: string | undefined;
  resource?: string | undefined;
}

export const AUDIT_PAGE_SIZE = 500;

/** Events matching `filter` in the order they were recorded (id), fetched `pageSize` rows per query. */
export async function* streamAuditEvents(db: Queryable, filter: AuditFilter, pageSize = AUDIT_PAGE_SIZE): AsyncGenerator<StoredAuditEvent> {
  let afterId = '0';
  for (;;) {
    const { rows } = await db.query<StoredAuditEvent>(
      `SELECT ${STORED_AUDIT_COLUMNS} FROM audit_events
       WHERE occurred_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR occurred_at < $2::timestamptz)
         AND ($3::text IS NULL OR event_type = $3) AND ($4::text IS NULL OR account_id = $4)
         AND ($5::text IS NULL OR client_id = $5) AND ($6::text IS NULL OR resource = $6)
         AND id > $7::bigint
       ORDER BY audit_events.id LIMIT $8`,
      [filter.since, filter.until ?? null, filter.type ?? null, filter.accountId ?? null, filter.clientId ?? null,
        filter.resource ?? null, afterId, pageSize],
    );
    yield* rows;
    if (rows.length < pageSize) return;
    afterId = rows[rows.length - 1]!.id;
  }
}

/** One event as a JSON line's object: snake_case, ISO time, the id as a string (bigint-safe). */
export function auditEventJson(event: StoredAuditEvent): Record<string, unknown> {
  return {
    id: event.id,
    occurred_at: new Date(event.occurred_at).toISOString(),
    event_type: event.event_type,
    outcome: event.outcome,
    actor_type: event.actor_type,
    actor_id: event.actor_id,
    account_id: event.account_id,
    client_id: event.client_id,
    resource: event.resource,
    scopes: event.scopes,
    ip: event.ip,
    user_agent: event.user_agent,
    request_id: event.request_id,
    details: event.details,
  };
}
