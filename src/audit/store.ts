// Appends security events to `audit_events`. Callers pass what happened; never a token, code or password.
import type { Queryable } from '../db/db.ts';

export type AuditEventType =
  | 'login.succeeded' | 'login.failed' | 'login.throttled'
  | 'consent.granted' | 'consent.denied'
  | 'token.issued' | 'refresh_token.replay_detected' | 'authorization_code.replay_detected'
  | 'grant.revoked' | 'client.registered' | 'resource.registered' | 'account.created' | 'keys.rotated'
  | 'client.metadata_document_changed' | 'client.disabled' | 'client.enabled' | 'client.deleted';

export interface AuditEvent {
  type: AuditEventType;
  outcome?: 'success' | 'failure';
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
  account_id: string | null;
  client_id: string | null;
  resource: string | null;
  scopes: string | null;
  details: Record<string, unknown>;
}

export async function listAuditEvents(db: Queryable, filter: { type?: AuditEventType; limit?: number } = {}): Promise<StoredAuditEvent[]> {
  const { rows } = await db.query<StoredAuditEvent>(
    `SELECT id::text, occurred_at, event_type, outcome, account_id, client_id, resource, scopes, details
     FROM audit_events WHERE ($1::text IS NULL OR event_type = $1) ORDER BY id DESC LIMIT $2`,
    [filter.type ?? null, filter.limit ?? 100],
  );
  return rows;
}

/** Appends several events in one statement (one round trip, one commit). */
export async function recordAuditEvents(db: Queryable, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const columns = 10;
  const placeholders = events.map((_, row) =>
    `(${Array.from({ length: columns }, (_, column) => `$${row * columns + column + 1}`).join(', ')})`);
  const values = events.flatMap((event) => [
    event.type, event.outcome ?? 'success', event.accountId ?? null, event.clientId ?? null, event.resource ?? null,
    event.scopes ?? null, event.ip ?? null, event.userAgent?.slice(0, 512) ?? null, event.requestId ?? null,
    JSON.stringify(event.details ?? {}),
  ]);
  await db.query(
    `INSERT INTO audit_events (event_type, outcome, account_id, client_id, resource, scopes, ip, user_agent, request_id, details)
     VALUES ${placeholders.join(', ')}`,
    values,
  );
}
