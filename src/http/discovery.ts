// Authorization server metadata at every URL MCP clients try (RFC 8414 §3, OIDC Discovery, and the
// path-inserted forms for an issuer with a path), all from oidc-provider's one document, with
// `scopes_supported` listing the scopes registered resources declare.
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { listAllScopes } from '../resources/store.ts';

const providerPathOf = (mountPath: string) => `${mountPath}/.well-known/openid-configuration`;

/** Every path the metadata is served at (also routes, for src/http/route-resolver.ts). */
export const discoveryAliasPaths = (mountPath: string): string[] => [
  `/.well-known/oauth-authorization-server${mountPath}`,
  `/.well-known/openid-configuration${mountPath}`,
  `${mountPath}/.well-known/oauth-authorization-server`,
  providerPathOf(mountPath),
];

export function discoveryAliases(mountPath: string, db: Db): Koa.Middleware {
  const providerPath = providerPathOf(mountPath);
  const aliases = new Set(discoveryAliasPaths(mountPath));
  return async (ctx, next) => {
    if (!aliases.has(ctx.path) || (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'OPTIONS')) return next();
    const requested = ctx.path;
    ctx.path = providerPath;
    await next();
    ctx.path = requested;
    if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      const metadata = ctx.body as Record<string, unknown>;
      const oidcScopes = Array.isArray(metadata.scopes_supported) ? metadata.scopes_supported as string[] : [];
      metadata.scopes_supported = [...new Set([...oidcScopes, ...(await listAllScopes(db))])];
    }
  };
}
