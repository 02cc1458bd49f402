// Who performs an operator action (the CLI, an admin's console session, an admin API token) and the audit
// event that names them: services below the front ends take an Operator, so each event states its actor.
import type { AuditEvent } from './event.ts';

export interface Operator {
  /** The audit trail's actor: `cli`, the admin's account id, or `admin_token:<id>` for an API token. */
  actor: string;
  /** The admin's account, when the action came from the console (the CLI and an API token belong to no one). */
  accountId?: string | undefined;
  /** The admin front end it came through; none for the CLI. */
  via?: 'console' | 'api' | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

/** The CLI is an operator with no request behind it: the audit trail names it `cli`. */
export const CLI_OPERATOR: Operator = { actor: 'cli' };

/**
 * The audit event of an operator action: the operator as its actor (named, never inferred), the request's
 * facts, and `details.actor` / `details.via` naming the operator for readers of the details alone.
 */
export function operatorAuditEvent(
  by: Operator, event: Omit<AuditEvent, 'actor' | 'ip' | 'userAgent' | 'requestId'>,
): AuditEvent {
  return {
    ...event,
    actor: { type: 'operator', id: by.actor },
    ip: by.ip,
    userAgent: by.userAgent,
    requestId: by.requestId,
    details: { ...event.details, actor: by.actor, ...(by.via ? { via: by.via } : {}) },
  };
}
