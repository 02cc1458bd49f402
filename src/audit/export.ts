// Reads audit events in the order they were written, a page at a time (keyset on id: timestamps come
// back as milliseconds but are stored in microseconds), so an export never holds more than one page. Under `audit export`, through src/audit/service.ts.
import type { Queryable } from '../db/db.ts';
import { AUDIT_ENTRY_COLUMNS, toAuditLogEntry, type AuditEntryRow, type AuditLogEntry } from './schema.ts';

export interface AuditExportFilter {
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
export async function* streamAuditEvents(db: Queryable, filter: AuditExportFilter, pageSize = AUDIT_PAGE_SIZE): AsyncGenerator<AuditLogEntry> {
  let afterId = '0';
  for (;;) {
    const { rows } = await db.query<AuditEntryRow>(
      `SELECT ${AUDIT_ENTRY_COLUMNS} FROM audit_events e
       WHERE e.occurred_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR e.occurred_at < $2::timestamptz)
         AND ($3::text IS NULL OR e.event_type = $3) AND ($4::text IS NULL OR e.account_id = $4)
         AND ($5::text IS NULL OR e.client_id = $5) AND ($6::text IS NULL OR e.resource = $6)
         AND e.id > $7::bigint
       ORDER BY e.id LIMIT $8`,
      [filter.since, filter.until ?? null, filter.type ?? null, filter.accountId ?? null, filter.clientId ?? null,
        filter.resource ?? null, afterId, pageSize],
    );
    yield* rows.map(toAuditLogEntry);
    if (rows.length < pageSize) return;
    afterId = rows[rows.length - 1]!.id;
  }
}
