// Who performs an admin action and from where: an admin's console session or an admin API token.
// Every admin service takes one and writes it into the audit event, so the trail says who did what.
import type Koa from 'koa';
import { operatorAuditEvent } from '../audit/operator.ts';
import type { AuditEvent } from '../audit/store.ts';

export interface AdminActor {
  /** The audit trail's actor: the admin's account id, or `admin_token:<id>` for an API token. */
  actor: string;
  /** The admin's account, when the action came from the console (an API token belongs to no one). */
  accountId: string | undefined;
  via: 'console' | 'api';
  ip: string | undefined;
  userAgent: string | undefined;
  requestId: string | undefined;
}

const requestFacts = (ctx: Koa.Context) => ({
  ip: ctx.ip,
  userAgent: ctx.get('user-agent') || undefined,
  requestId: ctx.state.requestId as string | undefined,
});

export const consoleActor = (ctx: Koa.Context, accountId: string): AdminActor =>
  ({ actor: accountId, accountId, via: 'console', ...requestFacts(ctx) });

export const apiActor = (ctx: Koa.Context, tokenId: string): AdminActor =>
  ({ actor: `admin_token:${tokenId}`, accountId: undefined, via: 'api', ...requestFacts(ctx) });

/** The audit event of an admin action: the operator's event (src/audit/operator.ts) with the admin as its actor. */
export const adminAuditEvent = (by: AdminActor, event: Omit<AuditEvent, 'ip' | 'userAgent' | 'requestId'>): AuditEvent =>
  operatorAuditEvent(by, event);
