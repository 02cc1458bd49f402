// Who performs an operator action (the CLI, or an admin through the console or the admin API) and the
// audit event that names them: every domain service takes an Operator and writes it as the event's actor.
import type { AuditEvent } from './event.ts';

export interface Operator {
  /** The audit trail's actor id: `cli`, an admin's account id, or `admin_token:<id>` for an API token. */
  actor: string;
  /** Which admin surface the action came through; none for the CLI. */
  via?: 'console' | 'api' | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

/** The CLI is an operator with no request behind it: the audit trail names it `cli`. */
export const CLI_OPERATOR: Operator = { actor: 'cli' };

/**
 * The audit event of an operator's action: the actor named explicitly (never inferred from details), the
 * request's facts, and `details.actor` (and `details.via`) kept for readers of the events written before the actor column.
 */
export function operatorAuditEvent(by: Operator, event: Omit<AuditEvent, 'actor' | 'ip' | 'userAgent' | 'requestId'>): AuditEvent {
  return {
    ...event,
    actor: { type: 'operator', id: by.actor },
    ip: by.ip,
    userAgent: by.userAgent,
    requestId: by.requestId,
    details: { ...event.details, actor: by.actor, ...(by.via === undefined ? {} : { via: by.via }) },
  };
}
