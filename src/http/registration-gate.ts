// What we add around oidc-provider's registration routes (RFC 7591 /reg, RFC 7592 /reg/:id), keyed on the
// route, never on a spelling: a per-IP rate limit, no updates, no secret digests, a deleted client's grants ended.
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { AppError, respondWithOAuthError } from '../errors.ts';
import { ipBucket } from '../accounts/login-throttle.ts';
import { endSelfDeletedClient } from '../clients/lifecycle.ts';
import type { RegistrationAttemptStore, RegistrationRateLimit } from '../clients/registration-rate-limit.ts';
import type { RouteResolver } from './route-resolver.ts';

export interface RegistrationGateOptions {
  db: Db;
  rateLimit: RegistrationRateLimit;
  /** Where registrations are counted: the database, or Redis with REDIS_URL (src/rate-limit/throttle-stores.ts). */
  attempts: RegistrationAttemptStore;
  routes: RouteResolver;
}

/** What oidc-provider resolved while running one of its routes: the route's name and the client it acted on. */
interface ProviderOutcome { route?: string; client?: { clientId: string } }
const outcomeOf = (ctx: Koa.Context) => (ctx as { oidc?: ProviderOutcome }).oidc;

export function registrationGate({ db, rateLimit, attempts, routes }: RegistrationGateOptions): Koa.Middleware {
  return async (ctx, next) => {
    // oidc-provider's route names (lib/helpers/initialize_app.js): registration (POST /reg), client
    // (GET /reg/:clientId), client_update (PUT), client_delete (DELETE).
    const route = routes.providerRouteOf(ctx);
    if (route === 'registration') {
      // Counted before anything is parsed, so a flood costs one small write per request.
      const allowance = await attempts.countRegistrationAttempt(ipBucket(ctx.ip), rateLimit);
      if (!allowance.allowed) {
        return respondWithOAuthError(ctx, new AppError('rate_limited',
          `too many client registrations from this address; try again in ${allowance.retryAfterSeconds} seconds`,
          { retryAfterSeconds: allowance.retryAfterSeconds }));
      }
      return next();
    }
    if (route !== 'client' && route !== 'client_update' && route !== 'client_delete') return next();

    // RFC 7592 §2.2 update is refused (403, as the RFC says for a client not permitted to update): it
    // would re-run registration outside our policy, and a client that needs new metadata registers again.
    // (src/oidc/registration-policy.ts refuses it too, inside oidc-provider.)
    if (route === 'client_update') {
      return respondWithOAuthError(ctx, new AppError('client_update_refused', 'client metadata cannot be updated; register a new client instead'));
    }
    await next();
    const outcome = outcomeOf(ctx);
    const body = ctx.body as Record<string, unknown> | undefined;
    if (route === 'client' && ctx.status === 200 && body && typeof body === 'object') {
      // Secrets are stored as digests: the plain secret was shown once, at registration.
      delete body.client_secret;
    }
    const clientId = outcome?.route === 'client_delete' && ctx.status === 204 ? outcome.client?.clientId : undefined;
    if (clientId !== undefined) {
      // oidc-provider deleted the client and its registration access token (RFC 7592 §2.3); the rest goes in
      // the clients domain. The id is the client that oidc-provider authenticated with the registration
      // access token, not a piece of the path.
      await endSelfDeletedClient(db, clientId, {
        ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined,
      });
    }
  };
}
