// What happens around each audit event besides its row: its actor when the caller named none, one
// structured log line, and in-process listeners (the Prometheus counters in src/http/metrics.ts).
import type { Queryable } from '../db/db.ts';
import { log } from '../log.ts';
import type { AuditActor, AuditEvent } from './event.ts';

export type AuditListener = (db: Queryable, events: readonly AuditEvent[]) => void;

const listeners = new Set<AuditListener>();

/** Calls `listener` with every batch of events recorded in this process; returns the unsubscribe. */
export function onAuditEvents(listener: AuditListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const PERSONAL = /^(login|consent|session)\./;

/**
 * The actor of an event whose caller named none, from what the event already says: writers from
 * before the actor column put 'cli' or 'client' in details.actor, and the token endpoint's events
 * are a client's (token issued, revocation) or the server's own (replay detection).
 */
export function actorOf(event: AuditEvent): AuditActor {
  if (event.actor) return event.actor;
  const details = event.details ?? {};
  if (details.actor === 'cli') return { type: 'operator', id: 'cli' };
  if (details.actor === 'client' || details.revoked_by === 'client' || event.type === 'token.issued') {
    return { type: 'client', id: event.clientId };
  }
  if (details.revoked_by === 'replay_detection') return { type: 'system' };
  if (event.accountId || PERSONAL.test(event.type)) return { type: 'user', id: event.accountId };
  return { type: 'system' };
}

export function announceAuditEvents(db: Queryable, events: readonly AuditEvent[]): void {
  for (const event of events) {
    const actor = actorOf(event);
    log.info('audit event', {
      audit: {
        type: event.type, outcome: event.outcome ?? 'success', actor_type: actor.type, actor_id: actor.id,
        account_id: event.accountId, client_id: event.clientId, resource: event.resource, scopes: event.scopes,
        ip: event.ip, user_agent: event.userAgent, details: event.details,
      },
      request_id: event.requestId,
    });
  }
  for (const listener of listeners) {
    try {
      listener(db, events);
    } catch (error) {
      // A listener (metrics) must never stop an audit row from being written.
      log.warn('audit listener failed', { error: String(error) });
    }
  }
}
