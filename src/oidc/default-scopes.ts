// The default-scope rule: an authorization request naming none of its resource's scopes asks for that
// resource's `read` scopes. A step of its own, run right after the resource lookup, on authorization only.
import type { KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import type { Resource } from '../resources/schema.ts';
import type { ResourceDirectory } from './resource-servers.ts';

/**
 * The scopes an authorization request asks for once the rule has run. MCP clients omit `scope` when
 * neither the challenge nor the metadata gave them one (MCP authorization §Scope Selection Strategy):
 * the resource's `read` scopes are the least that makes the token useful, and nothing is granted
 * without the person's consent. A request naming any of the resource's scopes is left as it is.
 * Scopes the resource does not declare are not removed here: oidc-provider drops them, because the
 * resource's `scope` (getResourceServerInfo) lists only declared ones.
 */
export function scopesWithDefaults(requested: readonly string[], declared: Resource['scopes']): string[] {
  if (declared.some((s) => requested.includes(s.scope))) return [...requested];
  return [...requested, ...declared.filter((s) => s.risk === 'read').map((s) => s.scope)];
}

type GetResourceServerInfo = (ctx: KoaContextWithOIDC, indicator: string, client?: { clientId: string }) => Promise<ResourceServer>;

/**
 * oidc-provider's getResourceServerInfo with the rule run after the lookup. Only for an authorization
 * request (or its resume after login and consent): a token request's scopes come from the grant.
 */
export function withDefaultScopes(resources: Pick<ResourceDirectory, 'getResourceServerInfo' | 'resolvedFor'>): GetResourceServerInfo {
  return async (ctx, indicator, client) => {
    const info = await resources.getResourceServerInfo(ctx, indicator, client);
    const params = ctx.oidc.params;
    const resource = resources.resolvedFor(ctx, String(info.audience));
    if ((ctx.oidc.route === 'authorization' || ctx.oidc.route === 'resume') && params && resource) {
      const requested = String(params.scope ?? '').split(' ').filter(Boolean);
      const scopes = scopesWithDefaults(requested, resource.scopes);
      if (scopes.length > requested.length) params.scope = scopes.join(' ');
    }
    return info;
  };
}
