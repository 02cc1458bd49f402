// When the person must be asked (oidc-provider's interaction policy) and what an authorization request
// carries from their standing grant (`loadExistingGrant`): least privilege, step-up, fresh consent for
// irreversible scopes.
import { interactionPolicy, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import { scopesWithRisk, type ResourceDirectory } from './resource-servers.ts';
import { policyWithheldScopes, type OrganisationPolicy } from './organisation-policy.ts';

const { base, Check } = interactionPolicy;

export interface ConsentPolicyOptions {
  /** Ask native (loopback / custom-scheme) clients every time, as RFC 8252 §8.6 advises. */
  askNativeClientsEveryTime: boolean;
}

/** Irreversible scopes this authorization request asks of its resource. */
export async function requestedIrreversibleScopes(ctx: KoaContextWithOIDC, resources: ResourceDirectory): Promise<string[]> {
  const requested = ctx.oidc.requestParamScopes;
  const found: string[] = [];
  for (const indicator of Object.keys(ctx.oidc.resourceServers ?? {})) {
    const resource = await resources.find(indicator);
    found.push(...scopesWithRisk(resource, 'irreversible').filter((scope) => requested.has(scope)));
  }
  return found;
}

export function createInteractionPolicy(resources: ResourceDirectory, options: ConsentPolicyOptions) {
  const policy = base();
  const consent = policy.get('consent');
  if (!consent) throw new Error('oidc-provider base policy has no consent prompt');
  if (!options.askNativeClientsEveryTime) consent.checks.remove('native_client_prompt');
  // The model proposes, a human disposes: an irreversible scope is never covered by an earlier
  // consent, so each authorization that asks for one shows the page (ctx.oidc.result is only set
  // once the person has answered this very request). One the organisation's policy withholds from this
  // person is no question to ask them (organisation-policy.ts).
  consent.checks.add(new Check(
    'irreversible_scope_requested',
    'irreversible scopes need a fresh consent every time',
    'consent_required',
    async (ctx) => !ctx.oidc.result?.consent
      && (await requestedIrreversibleScopes(ctx, resources)).some((scope) => !policyWithheldScopes(ctx).has(scope)),
  ));
  return policy;
}

/**
 * oidc-provider's documented hook for the grant an authorization starts from (the one this browser
 * session holds for the client), narrowed to the organisation's policy on every request. Two more
 * adjustments before the prompts are evaluated, both only while the person has not yet answered this request:
 * - step-up: the request carries the scopes already granted at its resource (not irreversible ones),
 *   so the new token holds the union and tools that worked keep working;
 * - a scope the person declined before but the client asks for again is asked again, not silently
 *   refused (a client that met a 403 needs that answer from the person, not from an old decision).
 */
export function createLoadExistingGrant(resources: ResourceDirectory, organisationPolicy: OrganisationPolicy) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
    const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    // First the organisation's policy (organisation-policy.ts): a refused resource ends here, and what the
    // grant holds beyond the policy is gone before step-up copies it into the request.
    const withheld = await organisationPolicy.atAuthorization(ctx, grant);
    if (!grant || ctx.oidc.result?.consent || !ctx.oidc.params) return grant;
    const requested = new Set(String(ctx.oidc.params.scope ?? '').split(' ').filter(Boolean));
    for (const indicator of Object.keys(ctx.oidc.resourceServers ?? {})) {
      const irreversible = new Set(scopesWithRisk(await resources.find(indicator), 'irreversible'));
      for (const scope of grant.getResourceScope(indicator).split(' ')) {
        if (scope && !irreversible.has(scope)) requested.add(scope);
      }
      forgetDeclined(grant, indicator, requested);
      // Asking the person for what they may not approve is no question: those count as declined here.
      const notTheirs = withheld.get(indicator) ?? [];
      if (notTheirs.length > 0) grant.rejectResourceScope(indicator, notTheirs.join(' '));
    }
    ctx.oidc.params.scope = [...requested].join(' ');
    return grant;
  };
}

function forgetDeclined(grant: Grant, indicator: string, requested: Set<string>): void {
  const declined = grant.rejected?.resources?.[indicator];
  if (!declined) return;
  const kept = declined.split(' ').filter((scope) => !requested.has(scope));
  grant.rejected!.resources![indicator] = kept.join(' ');
}
