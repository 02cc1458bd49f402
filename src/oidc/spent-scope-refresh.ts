// A refresh that repeats a spent irreversible scope gets a token without it instead of `invalid_scope`:
// the request's `scope` is trimmed the moment oidc-provider loads the refresh token it names.
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { scopesWithRisk, type ResourceDirectory } from './resource-servers.ts';

type AdapterClass = new (model: string) => Adapter;

const scopeList = (scope: unknown) => (typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);

/**
 * Clients such as mcp-remote repeat their whole scope on every refresh (RFC 6749 §6 allows it), and
 * that scope names the irreversible one the person approved once, which redeeming the code spent
 * (irreversible-scopes.ts). RFC 6749 §6 says a refresh may not name a scope the grant lacks, and
 * oidc-provider answers that with `invalid_scope` (lib/actions/grants/refresh_token.js), which would
 * strand the client forever. So the spent irreversible scopes are dropped from the request; what the
 * token then carries is told in the response's `scope`, as RFC 6749 §5.1 requires when it differs.
 *
 * Only irreversible scopes of the refresh token's own resource are dropped, and only when something
 * else was asked for: any other scope the token lacks still gets `invalid_scope`, and a refresh asking
 * only for spent scopes too (it wants nothing this token can give; the person has to be asked).
 *
 * The hook is the adapter's lookup of that refresh token, the first moment the refresh grant knows it
 * and before it compares the requested scope with the token's (no earlier documented hook sees both).
 */
export function withSpentScopesDroppedOnRefresh(Base: AdapterClass, resources: ResourceDirectory): AdapterClass {
  return class SpentScopeRefreshAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined> {
      const found = (await super.find(id)) ?? undefined;
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      const params = ctx?.oidc?.params;
      if (this.#model !== 'RefreshToken' || !found || ctx?.oidc?.route !== 'token' || !params) return found;
      if (params.grant_type !== 'refresh_token' || params.refresh_token !== id || typeof params.scope !== 'string') return found;
      params.scope = await withoutSpentScopes(params.scope, found, resources);
      return found;
    }
  };
}

async function withoutSpentScopes(requestedScope: string, refreshToken: AdapterPayload, resources: ResourceDirectory): Promise<string> {
  const resource = [refreshToken.resource ?? []].flat()[0];
  if (typeof resource !== 'string') return requestedScope;
  const held = new Set(scopeList(refreshToken.scope));
  const irreversible = new Set(scopesWithRisk(await resources.find(resource), 'irreversible'));
  const requested = scopeList(requestedScope);
  const kept = requested.filter((scope) => held.has(scope) || !irreversible.has(scope));
  return kept.length > 0 ? kept.join(' ') : requestedScope;
}
