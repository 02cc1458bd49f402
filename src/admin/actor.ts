// Who performs an admin action and from where: an admin's console session or an admin API token.
// Every admin service takes one and writes it into the audit event, so the trail says who did what.
import type Koa from 'koa';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { requestFacts } from '../http/request-facts.ts';

/** An operator that is an admin of the console or an API token: the services take it as their Operator. */
export interface AdminActor extends Operator {
  /** The admin's account, when the action came from the console (an API token belongs to no one). */
  accountId: string | undefined;
  via: 'console' | 'api';
}

export const consoleActor = (ctx: Koa.Context, accountId: string): AdminActor =>
  ({ actor: accountId, accountId, via: 'console', ...requestFacts(ctx) });

export const apiActor = (ctx: Koa.Context, tokenId: string): AdminActor =>
  ({ actor: `admin_token:${tokenId}`, accountId: undefined, via: 'api', ...requestFacts(ctx) });

/** The audit event of an admin action (src/audit/operator.ts): the admin as its operator actor, the request's facts. */
export { operatorAuditEvent as adminAuditEvent };
