// An audit event as read back, for every reader (the console's viewer, the admin API, `audit export`), and
// the viewer's filter: who, which client or resource, which type, a time range, a page cursor (zod).
import { z } from 'zod';
import { isStorableDate } from '../input/hostile-values.ts';
import type { StoredAuditEvent } from './store.ts';

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
  actorType: string | null;
  actorId: string | null;
  accountId: string | null;
  /** The account's email now (null once the account is gone, or when the event names none). */
  accountEmail: string | null;
  clientId: string | null;
  resource: string | null;
  scopes: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** The columns every reader selects from `audit_events` (aliased `e`), with the account's email beside them. */
export const AUDIT_ENTRY_COLUMNS = `e.id::text, e.occurred_at, e.event_type, e.outcome, e.actor_type, e.actor_id, e.account_id,
  (SELECT email FROM accounts WHERE accounts.id = e.account_id) AS account_email, e.client_id, e.resource, e.scopes, e.ip,
  e.user_agent, e.request_id, e.details`;

export type AuditEntryRow = Omit<StoredAuditEvent, 'occurred_at' | 'details'>
  & { occurred_at: Date | string; account_email: string | null; details: Record<string, unknown> | null };

export const toAuditLogEntry = (row: AuditEntryRow): AuditLogEntry => ({
  id: row.id, occurredAt: new Date(row.occurred_at), type: row.event_type, outcome: row.outcome,
  actorType: row.actor_type, actorId: row.actor_id, accountId: row.account_id, accountEmail: row.account_email,
  clientId: row.client_id, resource: row.resource, scopes: row.scopes, ip: row.ip, userAgent: row.user_agent,
  requestId: row.request_id, details: row.details ?? {},
});
