// The audit log viewer's query, shared by the console and the JSON API: filters by user, client,
// resource, event type and time range, newest first, paged by id (stable while new events arrive).
import { z } from 'zod';
import { normaliseEmail } from '../accounts/email.ts';
import type { Queryable } from '../db/db.ts';
import { isStorableDate } from '../input/hostile-values.ts';

const optionalText = (max: number) => z.string().trim().max(max).optional().transform((value) => value || undefined);
const optionalTime = z.string().trim().max(40).optional().transform((value, ctx) => {
  if (!value) return undefined;
  // <input type="datetime-local"> sends no zone: the console says times are UTC, so read them as UTC.
  const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (!isStorableDate(date)) {
    ctx.addIssue({ code: 'custom', message: 'expected a date and time such as 2026-01-31T14:00Z' });
    return z.NEVER;
  }
  return date;
});

export const auditFilterSchema = z.object({
  /** An account id or email. */
  user: optionalText(254),
  client: optionalText(2048),
  resource: optionalText(2048),
  type: z.string().trim().max(64).regex(/^[a-z_.]*$/, 'an event type such as token.issued').optional().transform((value) => value || undefined),
  since: optionalTime,
  until: optionalTime,
  /** Events older than this id: the next page. */
  before: z.string().regex(/^\d{1,18}$/, 'a page cursor').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(25),
});
export type AuditFilter = z.output<typeof auditFilterSchema>;

export interface AuditLogEntry {
  id: string;
  occurredAt: Date;
  type: string;
  outcome: string;
  accountId: string | null;
  accountEmail: string | null;
  clientId: string | null;
  resource: string | null;
  scopes: string | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage { events: AuditLogEntry[]; nextBefore: string | undefined }

export async function queryAuditLog(db: Queryable, filter: AuditFilter): Promise<AuditPage> {
  const { rows } = await db.query<{
    id: string; occurred_at: Date | string; event_type: string; outcome: string; account_id: string | null; email: string | null;
    client_id: string | null; resource: string | null; scopes: string | null; ip: string | null; request_id: string | null;
    details: Record<string, unknown> | null;
  }>(
    `SELECT e.id::text, e.occurred_at, e.event_type, e.outcome, e.account_id, acc.email, e.client_id, e.resource, e.scopes,
            e.ip, e.request_id, e.details
     FROM audit_events e LEFT JOIN accounts acc ON acc.id = e.account_id
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
    events: page.map((row) => ({
      id: row.id, occurredAt: new Date(row.occurred_at), type: row.event_type, outcome: row.outcome, accountId: row.account_id,
      accountEmail: row.email, clientId: row.client_id, resource: row.resource, scopes: row.scopes, ip: row.ip,
      requestId: row.request_id, details: row.details ?? {},
    })),
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
