// Which route a request reaches, whatever the spelling of its path: asks our router and oidc-provider's
// router themselves (both match letter case loosely and ignore a trailing slash), and names that route's one spelling.
import type Koa from 'koa';
import type Router from '@koa/router';
import type { ProviderRoutes } from '../oidc/provider-routes.ts';
import type { MatchedRoute, ResolvedRoute } from '../request/route.ts';
import { requestState } from '../request/state.ts';
import { canonicalPathOn, collapsedPath } from './path-spelling.ts';

export type { MatchedRoute, ResolvedRoute } from '../request/route.ts';

/** The routers serving a request: one generation's (src/app.ts); every generation has the same routes. */
export interface RouteTables { app: Router; provider: ProviderRoutes }

export interface RouteResolverOptions {
  mountPath: string;
  /** Literal paths served by middleware rather than a router (the discovery aliases), GET/HEAD/OPTIONS. */
  aliases: readonly string[];
  tablesFor(ctx: Koa.Context): RouteTables;
}

export interface RouteResolver {
  /** The route this request reaches (resolved once per request, before anything rewrites ctx.path). */
  resolve(ctx: Koa.Context): ResolvedRoute | undefined;
  /** The name of the oidc-provider route this request reaches, if it reaches one. */
  providerRouteOf(ctx: Koa.Context): string | undefined;
  /** Whether the path lies under the issuer's path (oidc-provider's mount), matched as the routers match. */
  underMount(ctx: Koa.Context): boolean;
}

type Candidate = Omit<MatchedRoute, 'canonicalPath'>;
const RECENT_ROUTES = 1024;
const RECENT_PATH_MAX = 256;
const ALIAS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// ASCII case folding, as both routers do for their literal segments.
const fold = (value: string) => value.replace(/[a-z]+/g, (letters) => letters.toUpperCase());

export function createRouteResolver({ mountPath, aliases, tablesFor }: RouteResolverOptions): RouteResolver {
  const foldedMount = fold(mountPath);
  const foldedAliases = new Map(aliases.map((alias) => [fold(alias), alias]));
  const isUnderMount = (folded: string) => folded === foldedMount || folded.startsWith(`${foldedMount}/`);

  function candidatesFor(tables: RouteTables, method: string, path: string): Candidate[] {
    const found: Candidate[] = [];
    // Any method: a path our router knows under another method is answered by its allowedMethods (405).
    for (const layer of tables.app.match(path, method).path) {
      if (layer.methods.length > 0) found.push({ owner: 'app', name: layer.name ?? String(layer.path), template: String(layer.path) });
    }
    const folded = fold(path);
    if (isUnderMount(folded)) {
      const route = tables.provider.match(method, path.slice(mountPath.length) || '/');
      if (route) found.push({ owner: 'provider', name: route.name, template: `${mountPath}${route.template}` });
    }
    const alias = foldedAliases.get(folded.endsWith('/') ? folded.slice(0, -1) : folded);
    if (alias && ALIAS_METHODS.has(method)) found.push({ owner: 'alias', name: 'discovery', template: alias });
    return found;
  }

  // The answer depends on the method and the path alone (every generation has the same routes), so the
  // latest answers are kept: the token endpoint's path is asked thousands of times a second. Bounded, and
  // oldest-first out, so unique paths (interaction uids, a scan) cannot grow it, and long paths are not kept.
  const recent = new Map<string, ResolvedRoute | null>();

  function resolve(ctx: Koa.Context): ResolvedRoute | undefined {
    const state = requestState(ctx);
    if (state.route !== undefined) return state.route ?? undefined;
    const key = `${ctx.method} ${ctx.path}`;
    let route = recent.get(key);
    if (route === undefined) {
      route = resolveUncached(tablesFor(ctx), ctx.method, ctx.path);
      if (ctx.path.length <= RECENT_PATH_MAX) {
        if (recent.size >= RECENT_ROUTES) recent.delete(recent.keys().next().value!);
        recent.set(key, route);
      }
    }
    state.route = route;
    return route ?? undefined;
  }

  function resolveUncached(tables: RouteTables, method: string, path: string): ResolvedRoute | null {
    // The routes this spelling reaches as it is, then those of its collapsed form: a spelling no router
    // takes as it is (`//reg`, `/re%67`) still names a route, and gets the same answer as any other.
    const collapsed = collapsedPath(path);
    const found = [
      ...candidatesFor(tables, method, path).map((route) => ({ ...route, canonicalPath: canonicalPathOn(route.template, path) })),
      ...(collapsed === path ? [] : candidatesFor(tables, method, collapsed))
        .map((route) => ({ ...route, canonicalPath: canonicalPathOn(route.template, collapsed) })),
    ];
    if (found.length === 0) return null;
    // Shared by every request with this method and path: frozen, so no step can change another's answer.
    return Object.freeze({
      routes: Object.freeze(found.map((candidate) => Object.freeze(candidate))) as MatchedRoute[],
      canonicalPath: found.find((candidate) => candidate.canonicalPath !== undefined)?.canonicalPath,
      spelledCanonically: found.every((candidate) => candidate.canonicalPath === path),
    });
  }

  return {
    resolve,
    providerRouteOf(ctx) {
      return resolve(ctx)?.routes.find((route) => route.owner === 'provider')?.name;
    },
    underMount: (ctx) => isUnderMount(fold(ctx.path)),
  };
}
