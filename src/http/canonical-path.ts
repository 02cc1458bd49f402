// One spelling per route: a request that names a route by any other spelling of its path (letter case, a
// trailing or doubled slash, an encoded letter, a dot segment) is answered here, before any gate or handler.
import type Koa from 'koa';
import type { RouteResolver } from './route-resolver.ts';

/**
 * Our checks (rate limits, CSRF, the registration gate) run on the path as spelled, while both routers
 * match loosely; so every route answers to exactly one spelling and no gate can be walked around:
 * - GET and HEAD get a 308 to the canonical spelling (RFC 9110 §15.4.9), for people who type
 *   `/Account` or `/admin/`: following it costs nothing, as the canonical request passes every gate.
 * - Anything else is 404, as for a path that names no route: a state-changing request is never
 *   replayed to another URL, and no client comes to depend on a second spelling.
 */
export function canonicalPaths(routes: RouteResolver): Koa.Middleware {
  return async (ctx, next) => {
    const route = routes.resolve(ctx);
    if (!route || route.spelledCanonically) return next();
    const target = route.canonicalPath;
    // A canonical path starts with one '/' (a route's own first literal), so the redirect stays on this origin.
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && target?.startsWith('/') && !target.startsWith('//')) {
      ctx.status = 308;
      ctx.set('Location', ctx.querystring ? `${target}?${ctx.querystring}` : target);
      return;
    }
    ctx.status = 404;
  };
}
