// The audit log viewer's query (SQL only), under the console and the JSON API: filters by user, client,
// resource, event type and time range, newest first, paged by id (stable while new events arrive).
import { normaliseEmail } from '../input/email.ts';
import type { Queryable } from '../db/db.ts';
import { AUDIT_ENTRY_COLUMNS, toAuditLogEntry, type AuditEntryRow, type AuditFilter, type AuditLogEntry } from './schema.ts';

export interface AuditPage { events: AuditLogEntry[]; nextBefore: string | undefined }

export async function queryAuditLog(db: Queryable, filter: AuditFilter): Promise<AuditPage> {
  const { rows } = await db.query<AuditEntryRow>(
    `SELECT ${AUDIT_ENTRY_COLUMNS}
     FROM audit_events e
     WHERE ($1::text IS NULL OR e.account_id = $1 OR e.account_id IN (SELECT id FROM accounts WHERE email_key = $9))
       AND ($2::text IS NULL OR e.client_id = $2)
       AND ($3::text IS NULL OR e.resource = $3)
       AND ($4::text IS NULL OR e.event_type = $4)
       AND ($5::timestamptz IS NULL OR e.occurred_at >= $5)
       AND ($6::timestamptz IS NULL OR e.occurred_at < $6)
       AND ($7::bigint IS NULL OR e.id < $7)
     ORDER BY e.id DESC LIMIT $8`,
    [filter.user ?? null, filter.client ?? null, filter.resource ?? null, filter.type ?? null,
      filter.since?.toISOString() ?? null, filter.until?.toISOString() ?? null, filter.before ?? null, filter.limit + 1,
      filter.user === undefined ? null : normaliseEmail(filter.user)],
  );
  const page = rows.slice(0, filter.limit);
  return {
    events: page.map(toAuditLogEntry),
    nextBefore: rows.length > filter.limit ? page.at(-1)?.id : undefined,
  };
}

/**
 * Event types present in the trail, for the viewer's filter list. A loose index scan over
 * audit_events_type_time (0008): one index probe per distinct type, not a pass over every event.
 */
export async function listAuditEventTypes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ event_type: string }>(
    `WITH RECURSIVE types AS (
       SELECT min(event_type) AS event_type FROM audit_events
       UNION ALL
       SELECT (SELECT min(event_type) FROM audit_events WHERE event_type > types.event_type) FROM types WHERE types.event_type IS NOT NULL
     )
     SELECT event_type FROM types WHERE event_type IS NOT NULL`);
  return rows.map((row) => row.event_type);
}
