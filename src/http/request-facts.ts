// What the audit trail records of the request behind an event: where it came from and which request it was.
import type Koa from 'koa';

export interface RequestFacts {
  ip: string;
  userAgent: string | undefined;
  requestId: string | undefined;
}

export const requestFacts = (ctx: Koa.Context): RequestFacts => ({
  ip: ctx.ip,
  userAgent: ctx.get('user-agent') || undefined,
  requestId: ctx.state.requestId as string | undefined,
});
