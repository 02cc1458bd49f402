// The token endpoint's per-IP limit, in front of oidc-provider: a refused request costs no body
// parsing and no query. (The per-client limit needs the client_id: src/rate-limit/provider-hooks.ts.)
import type Koa from 'koa';
import { ipKey, respondRateLimited, type RateLimits } from '../rate-limit/limits.ts';
import type { RouteResolver } from './route-resolver.ts';

export function tokenRateLimit(limits: RateLimits, routes: RouteResolver): Koa.Middleware {
  return async (ctx, next) => {
    // oidc-provider's `token` route (POST only), however its path is spelled.
    if (routes.providerRouteOf(ctx) !== 'token') return next();
    const verdict = limits.tokenByIp.hit(ipKey('token_ip', ctx.ip));
    if (!verdict.allowed) return respondRateLimited(ctx, limits, limits.tokenByIp, verdict, 'token requests from this address');
    return next();
  };
}
