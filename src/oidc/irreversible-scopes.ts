// Irreversible scopes are single-use: only the access token of the code exchange carries one (five
// minutes at most), redeeming the code spends them from the grant and no refresh token carries one,
// so every new use needs a fresh consent (consent-policy.ts asks for it).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { scopesWithRisk, type ResourceDirectory } from './resource-servers.ts';

/**
 * Long enough that a client which treats a token with 60 s or less left as expired (mcp-remote does)
 * still uses it for minutes instead of refreshing it away at once, which would lose the scope: the
 * refresh gives a token without it (spent-scope-refresh.ts). Short, because the token can still act
 * irreversibly until it is used; the resource-server kit lets it do so once (single-use-scopes.ts).
 */
export const IRREVERSIBLE_ACCESS_TOKEN_TTL_SECONDS = 300;

interface ScopedToken { scope?: string | undefined; resourceServer?: { audience?: string } | undefined }
interface GrantSource { kind?: string; scope?: string; resource?: string | string[] | undefined; grantId?: string }

const scopeList = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean);

export function createIrreversibleScopeRules(resources: ResourceDirectory) {
  function irreversibleIn(ctx: object, audience: string | undefined, scope: string | undefined): string[] {
    if (!audience) return [];
    const irreversible = new Set(scopesWithRisk(resources.resolvedFor(ctx, audience), 'irreversible'));
    return scopeList(scope).filter((s) => irreversible.has(s));
  }

  /** Caps an access token's lifetime when it carries an irreversible scope. */
  function capAccessTokenTtl(ctx: object, token: ScopedToken, ttl: number): number {
    const carries = irreversibleIn(ctx, token.resourceServer?.audience, token.scope).length > 0;
    return carries ? Math.min(ttl, IRREVERSIBLE_ACCESS_TOKEN_TTL_SECONDS) : ttl;
  }

  /**
   * Called as the code is redeemed, after its access token is issued and before any refresh token:
   * the refresh token is minted without the irreversible scopes, and the grant forgets them.
   */
  async function spendAtCodeRedemption(ctx: KoaContextWithOIDC, source: GrantSource): Promise<void> {
    if (source.kind !== 'AuthorizationCode') return;
    const resource = [source.resource ?? []].flat()[0];
    if (!resource) return;
    const irreversible = new Set(scopesWithRisk(await resources.find(resource), 'irreversible'));
    const spent = new Set(scopeList(source.scope).filter((s) => irreversible.has(s)));
    if (spent.size === 0) return;
    source.scope = scopeList(source.scope).filter((s) => !spent.has(s)).join(' ');
    const grant = ctx.oidc.entities.Grant;
    const granted = grant?.resources?.[resource];
    if (!grant || !granted) return;
    grant.resources![resource] = scopeList(granted).filter((s) => !spent.has(s)).join(' ');
    await grant.save();
  }

  return { capAccessTokenTtl, spendAtCodeRedemption };
}
