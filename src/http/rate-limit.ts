// The token endpoint's per-IP limit, in front of oidc-provider: a refused request costs no body
// parsing and no query. (The per-client limit needs the client_id: src/rate-limit/provider-hooks.ts.)
import type Koa from 'koa';
import { AppError, respondWithOAuthError } from '../errors.ts';
import { ipKey, rateLimitDescription, type RateLimits } from '../rate-limit/limits.ts';
import type { RouteResolver } from './route-resolver.ts';

export function tokenRateLimit(limits: RateLimits, routes: RouteResolver): Koa.Middleware {
  return async (ctx, next) => {
    // oidc-provider's `token` route (POST only), however its path is spelled.
    if (routes.providerRouteOf(ctx) !== 'token') return next();
    const verdict = limits.tokenByIp.hit(ipKey('token_ip', ctx.ip));
    if (verdict.allowed) return next();
    limits.onRefused?.(limits.tokenByIp.name);
    // On oidc-provider's route, so answered as it would: OAuth JSON, no-store, Retry-After.
    return respondWithOAuthError(ctx, new AppError('rate_limited', rateLimitDescription('token requests from this address', verdict), {
      retryAfterSeconds: verdict.retryAfterSeconds,
    }));
  };
}
