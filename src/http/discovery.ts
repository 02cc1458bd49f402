// Authorization server metadata at every URL MCP clients try (RFC 8414 §3, OIDC Discovery, and the
// path-inserted forms for an issuer with a path), all from oidc-provider's one document, with
// `scopes_supported` listing the scopes registered resources declare; while the database is down,
// the scopes last read, so clients can still discover us (and reach /jwks, which needs no database).
import type Koa from 'koa';
import type { RouteResolver } from './route-resolver.ts';
import type { Db } from '../db/db.ts';
import { isDatabaseUnavailable } from '../db/database-unavailable.ts';
import { listAllScopes } from '../resources/store.ts';

const providerPathOf = (mountPath: string) => `${mountPath}/.well-known/openid-configuration`;

/** Every path the metadata is served at (also routes, for src/http/route-resolver.ts). */
export const discoveryAliasPaths = (mountPath: string): string[] => [
  `/.well-known/oauth-authorization-server${mountPath}`,
  `/.well-known/openid-configuration${mountPath}`,
  `${mountPath}/.well-known/oauth-authorization-server`,
  providerPathOf(mountPath),
];

export function discoveryAliases(mountPath: string, db: Db, routes: RouteResolver): Koa.Middleware {
  const providerPath = providerPathOf(mountPath);
  // The resources' scopes as last read: a stale list for the length of an outage beats no document,
  // since resource servers and MCP clients fetch metadata before anything else (RFC 8414 §3).
  let lastScopes: string[] | undefined;
  const resourceScopes = async (): Promise<string[]> => {
    try {
      lastScopes = await listAllScopes(db);
    } catch (error) {
      if (!isDatabaseUnavailable(error) || lastScopes === undefined) throw error;
    }
    return lastScopes;
  };
  return async (ctx, next) => {
    // The alias routes are in the route table (route-resolver.ts, GET/HEAD/OPTIONS), like every other route.
    if (!routes.resolve(ctx)?.routes.some((route) => route.owner === 'alias')) return next();
    const requested = ctx.path;
    ctx.path = providerPath;
    await next();
    ctx.path = requested;
    if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      const metadata = ctx.body as Record<string, unknown>;
      const oidcScopes = Array.isArray(metadata.scopes_supported) ? metadata.scopes_supported as string[] : [];
      metadata.scopes_supported = [...new Set([...oidcScopes, ...(await resourceScopes())])];
    }
  };
}
