// The organisation's policies (src/policies/) applied where oidc-provider decides what a token carries: each
// authorization request (loadExistingGrant) and each refresh (rotateRefreshToken). A standing grant holding a
// scope the policy now withholds is narrowed, saved and audited; a resource the person may not approve at
// all ends the authorization with access_denied and the refresh with invalid_grant.
import { errors, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { decidePolicyFor, partitionScopes, recordPolicyWithheld, type PolicyDecision } from '../policies/service.ts';
import type { Resource } from '../resources/schema.ts';
import { requestState } from '../request/state.ts';
import type { ResourceDirectory } from './resource-servers.ts';

const scopeList = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean);

const requestFactsOf = (ctx: KoaContextWithOIDC) => ({
  ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string | undefined,
});

const refusal = (resource: Resource) =>
  `your organisation's policy does not let you approve access to ${resource.name} (${resource.uri})`;

/** Takes the withheld scopes out of the grant's scopes at `indicator` (in memory); returns those taken. */
function narrowGrant(grant: Grant, indicator: string, decision: PolicyDecision, resource: Resource): string[] {
  const held = scopeList(grant.resources?.[indicator]);
  const { allowed, withheld } = partitionScopes(decision, resource, held);
  if (withheld.length > 0) grant.resources = { ...grant.resources, [indicator]: allowed.join(' ') };
  return withheld;
}

/** The requested scopes the organisation's policy withheld from this authorization request. */
export const policyWithheldScopes = (ctx: object): ReadonlySet<string> => requestState(ctx).policyWithheldScopes ?? new Set();

export function createOrganisationPolicy(db: Db, resources: ResourceDirectory) {
  /**
   * For each resource of the request: refuse it when no policy lets this person approve it, else narrow the
   * standing grant to what the policy allows (before step-up copies its scopes into the request). Returns,
   * per resource indicator, the requested scopes the policy withholds: the request keeps them, so the consent
   * page can say why (consent/offer.ts), and loadExistingGrant marks them declined so they alone never make
   * oidc-provider show the page again. Audited once per request: not again on the resume after consent.
   */
  async function atAuthorization(ctx: KoaContextWithOIDC, grant: Grant | undefined): Promise<Map<string, string[]>> {
    const withheldByIndicator = new Map<string, string[]>();
    const accountId = ctx.oidc.account?.accountId ?? ctx.oidc.session?.accountId;
    if (!accountId) return withheldByIndicator;
    const requested = scopeList(String(ctx.oidc.params?.scope ?? ''));
    const answered = Boolean(ctx.oidc.result?.consent);
    for (const indicator of Object.keys(ctx.oidc.resourceServers ?? {})) {
      const resource = await resources.find(indicator);
      if (!resource) continue;
      const decision = await decidePolicyFor(db, accountId, resource.uri);
      const facts = { accountId, clientId: ctx.oidc.client?.clientId, resource: resource.uri, at: 'authorization' as const, ...requestFactsOf(ctx) };
      if (decision.kind === 'refused') {
        await recordPolicyWithheld(db, decision, { ...facts, scopes: requested });
        throw new errors.AccessDenied(refusal(resource));
      }
      const { withheld } = partitionScopes(decision, resource, requested);
      withheldByIndicator.set(indicator, withheld);
      requestState(ctx).policyWithheldScopes = new Set([...policyWithheldScopes(ctx), ...withheld]);
      if (withheld.length > 0 && !answered) await recordPolicyWithheld(db, decision, { ...facts, scopes: withheld });
      if (!grant) continue;
      const taken = narrowGrant(grant, indicator, decision, resource);
      if (taken.length === 0) continue;
      await grant.save();
      await recordPolicyWithheld(db, decision, { ...facts, scopes: taken, narrowedGrantId: grant.jti });
    }
    return withheldByIndicator;
  }

  /**
   * Before the refresh token rotates: the grant loses what the policy now withholds (the access token is cut
   * from the grant, refresh_token.js), and so does the successor refresh token (it copies this one's scope).
   * Refused outright, the refresh fails before the token is consumed: the person has to be asked again.
   */
  async function atRefresh(ctx: KoaContextWithOIDC): Promise<void> {
    const { RefreshToken: token, Grant: grant } = ctx.oidc.entities;
    const indicator = [token?.resource ?? []].flat()[0];
    if (!token || !grant || typeof indicator !== 'string' || !token.accountId) return;
    const resource = await resources.find(indicator);
    if (!resource) return;
    const decision = await decidePolicyFor(db, token.accountId, resource.uri);
    const facts = { accountId: token.accountId, clientId: token.clientId, resource: resource.uri, at: 'refresh' as const, ...requestFactsOf(ctx) };
    if (decision.kind === 'refused') {
      await recordPolicyWithheld(db, decision, { ...facts, scopes: scopeList(token.scope) });
      throw new errors.InvalidGrant(refusal(resource));
    }
    const fromGrant = narrowGrant(grant, indicator, decision, resource);
    const fromToken = partitionScopes(decision, resource, scopeList(token.scope));
    if (fromGrant.length === 0 && fromToken.withheld.length === 0) return;
    token.scope = fromToken.allowed.join(' ');
    if (fromGrant.length > 0) await grant.save();
    await recordPolicyWithheld(db, decision, {
      ...facts, scopes: [...new Set([...fromGrant, ...fromToken.withheld])], narrowedGrantId: grant.jti,
    });
  }

  return { atAuthorization, atRefresh };
}

export type OrganisationPolicy = ReturnType<typeof createOrganisationPolicy>;
