// What we add around oidc-provider's registration endpoints (RFC 7591 /reg, RFC 7592 /reg/:id): a per-IP
// rate limit, no updates, no secret digests in read responses, and a deleted client's grants ended.
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { ipBucket } from '../accounts/login-throttle.ts';
import { removeClientRemains } from '../clients/lifecycle.ts';
import type { RegistrationAttemptStore, RegistrationRateLimit } from '../clients/registration-rate-limit.ts';

export interface RegistrationGateOptions {
  db: Db;
  mountPath: string;
  rateLimit: RegistrationRateLimit;
  /** Where registrations are counted: the database, or Redis with REDIS_URL (src/rate-limit/throttle-stores.ts). */
  attempts: RegistrationAttemptStore;
}

function refuse(ctx: Koa.Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.type = 'json';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

export function registrationGate({ db, mountPath, rateLimit, attempts }: RegistrationGateOptions): Koa.Middleware {
  const registration = `${mountPath}/reg`;
  return async (ctx, next) => {
    if (ctx.path === registration && ctx.method === 'POST') {
      // Counted before anything is parsed, so a flood costs one small write per request.
      const allowance = await attempts.countRegistrationAttempt(ipBucket(ctx.ip), rateLimit);
      if (!allowance.allowed) {
        ctx.set('Retry-After', String(allowance.retryAfterSeconds));
        return refuse(ctx, 429, 'temporarily_unavailable',
          `too many client registrations from this address; try again in ${allowance.retryAfterSeconds} seconds`);
      }
      return next();
    }
    if (!ctx.path.startsWith(`${registration}/`)) return next();

    // RFC 7592 §2.2 update is refused (403, as the RFC says for a client not permitted to update): it
    // would re-run registration outside our policy, and a client that needs new metadata registers again.
    if (ctx.method === 'PUT') {
      return refuse(ctx, 403, 'invalid_request', 'client metadata cannot be updated; register a new client instead');
    }
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.method === 'GET' && ctx.status === 200 && body && typeof body === 'object') {
      // Secrets are stored as digests: the plain secret was shown once, at registration.
      delete body.client_secret;
    }
    if (ctx.method === 'DELETE' && ctx.status === 204) {
      // oidc-provider deleted the client and its registration access token (RFC 7592 §2.3); its grants
      // and their tokens go with it, as when an operator deletes a client.
      const clientId = decodeURIComponent(ctx.path.slice(registration.length + 1));
      const grantsRevoked = await removeClientRemains(db, [clientId]);
      await recordAuditEvent(db, {
        type: 'client.deleted', clientId, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined,
        requestId: ctx.state.requestId as string | undefined, details: { actor: 'client', grants_revoked: grantsRevoked },
      });
    }
  };
}
