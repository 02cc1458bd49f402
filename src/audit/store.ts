// Appends security events to `audit_events` (append-only: migration 0007) and reads them back.
// Callers pass what happened; never a token, code or password. Each event is also logged and counted.
import type { Queryable } from '../db/db.ts';
import { actorOf, announceAuditEvents } from './observers.ts';

export type AuditEventType =
  | 'login.succeeded' | 'login.failed' | 'login.throttled' | 'session.ended'
  | 'consent.granted' | 'consent.denied'
  | 'token.issued' | 'refresh_token.replay_detected' | 'authorization_code.replay_detected'
  | 'grant.revoked'
  | 'client.registered' | 'client.changed' | 'client.metadata_document_changed'
  | 'client.disabled' | 'client.enabled' | 'client.deleted'
  | 'resource.registered' | 'resource.changed' | 'resource.disabled' | 'resource.enabled' | 'resource.deleted'
  | 'account.created' | 'account.disabled' | 'account.enabled' | 'account.password_reset'
  | 'keys.rotated' | 'keys.retired'
  | 'admin_token.created' | 'admin_token.revoked' | 'admin.action'
  | 'audit.purged';

/** Who acted: a person (their account), an operator (CLI or admin), a client with its own credentials, or the server itself. */
export interface AuditActor {
  type: 'user' | 'operator' | 'client' | 'system';
  id?: string | undefined;
}

export interface AuditEvent {
  type: AuditEventType;
  outcome?: 'success' | 'failure';
  /** Defaults from the event (see actorOf in observers.ts): pass it when an operator or admin acts. */
  actor?: AuditActor | undefined;
  accountId?: string | undefined;
  clientId?: string | undefined;
  resource?: string | undefined;
  scopes?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  details?: Record<string, unknown>;
}

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

/** Appends several events in one statement (one round trip, one commit). */
export async function recordAuditEvents(db: Queryable, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Logged and counted first: a line in the log survives a database that refuses the row.
  announceAuditEvents(db, events);
  const placeholders = events.map((_, row) =>
    `(${Array.from({ length: COLUMNS }, (_, column) => `$${row * COLUMNS + column + 1}`).join(', ')})`);
  const values = events.flatMap((event) => {
    const actor = actorOf(event);
    return [
      event.type, event.outcome ?? 'success', actor.type, actor.id ?? null, event.accountId ?? null,
      event.clientId ?? null, event.resource ?? null, event.scopes ?? null, event.ip ?? null,
      event.userAgent?.slice(0, 512) ?? null, event.requestId ?? null, JSON.stringify(event.details ?? {}),
    ];
  });
  await db.query(
    `INSERT INTO audit_events (event_type, outcome, actor_type, actor_id, account_id, client_id, resource, scopes, ip,
       user_agent, request_id, details)
     VALUES ${placeholders.join(', ')}`,
    values,
  );
}
