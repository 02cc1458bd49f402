// The audit trail's one service for its readers, the console, the admin API and `audit export`: checks the
// viewer's filter (zod), reads a page or streams a range, and owns the one wire form of an event.
import type { Queryable } from '../db/db.ts';
import { streamAuditEvents, type AuditExportFilter } from './export.ts';
import { listAuditEventTypes, queryAuditLog, type AuditPage } from './log-query.ts';
import { auditFilterSchema, type AuditFilter, type AuditLogEntry } from './schema.ts';

export { auditFilterSchema, listAuditEventTypes, type AuditFilter, type AuditExportFilter, type AuditPage };

/**
 * A page of the viewer, newest first. Front ends check the query string with auditFilterSchema first: the API
 * lets its ZodError become a 400, the console shows the issues beside the form it keeps filled in.
 */
export async function readAuditPage(db: Queryable, filter: AuditFilter): Promise<AuditPage> {
  return queryAuditLog(db, filter);
}

/** Every event in `filter`'s range in the order recorded, in their wire form, a page of rows at a time. */
export async function* exportAuditEvents(db: Queryable, filter: AuditExportFilter): AsyncGenerator<AuditEventJson> {
  for await (const event of streamAuditEvents(db, filter)) yield auditEventJson(event);
}

const iso = (date: Date) => date.toISOString();

/**
 * An event's one wire form, for the admin API's `events[]` and each line of `audit export`: snake_case, the
 * id as a string (bigint-safe), ISO time, null for none. Never a token, code or password: writers keep them out.
 */
export const auditEventJson = (event: AuditLogEntry) => ({
  id: event.id,
  occurred_at: iso(event.occurredAt),
  type: event.type,
  outcome: event.outcome,
  actor_type: event.actorType,
  actor_id: event.actorId,
  account_id: event.accountId,
  account_email: event.accountEmail,
  client_id: event.clientId,
  resource: event.resource,
  scopes: event.scopes,
  ip: event.ip,
  user_agent: event.userAgent,
  request_id: event.requestId,
  details: event.details,
});
export type AuditEventJson = ReturnType<typeof auditEventJson>;

/** A page's wire form: `next_before` is the cursor for the next (older) page, null on the last. */
export const auditPageJson = (page: AuditPage) => ({ events: page.events.map(auditEventJson), next_before: page.nextBefore ?? null });
