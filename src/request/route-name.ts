// The name of the route a request reached, for labels and span names: oidc-provider's route name or our
// router's template, never the raw path (which carries interaction uids and is unbounded).
import type Koa from 'koa';

/** The route a request matched, never its raw path (bounded label values): oidc-provider's route name or our router's template. */
export function routeOf(ctx: Koa.Context): string {
  const oidcRoute = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
  if (typeof oidcRoute === 'string') return oidcRoute;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return ctx.status === 404 ? 'unmatched' : 'other';
}
