// What the consent page offers (who asks, for which resource, the new scopes grouped by risk with
// safe defaults, the identity claims asked, what is already granted) and what approving records: exactly
// the scopes and claims left checked, added to the grant; the rest declined; irreversible scopes never kept.
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import { riskClasses, type Resource, type ResourceScope, type Risk } from '../resources/schema.ts';
import { findResourceForRequest } from '../resources/request-resource.ts';
import { describeClientIdentity } from '../clients/identity.ts';
import { findAccountById } from '../accounts/store.ts';
import { asksForIdentityClaims, offeredClaims, recordIdentityAnswer, type OfferedClaim } from '../accounts/identity-claims.ts';
import { requestCache } from '../request/adapter-cache.ts';
import { decidePolicyFor, type PolicyDecision } from '../policies/service.ts';
import { policyAllows, withheldReason } from '../policies/evaluate.ts';
import { reconsentFlagsOf, type ToolReconsentFlag } from '../grants/tool-reconsent.ts';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
type Client = Awaited<ReturnType<Provider['Client']['find']>>;

interface PromptDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export interface OfferedScope extends ResourceScope { checked: boolean }
/** A requested scope the organisation's policy does not let this person approve, with the reason shown. */
export interface WithheldScope extends ResourceScope { reason: string }

/** The request's resource, the scopes to decide on now, and the ones a standing grant already holds. */
export interface ConsentOffer {
  indicator: string | undefined;
  resource: Resource | undefined;
  offered: OfferedScope[];
  kept: ResourceScope[];
  /** Identity claims asked and not answered before (identity-claims.ts): each a line to tick. */
  claims: OfferedClaim[];
  /** Issue 12: what the organisation's policy withholds, and the decision (for the audit trail). */
  withheld: WithheldScope[];
  decision: PolicyDecision;
  /** Issue 14 §3: the standing grant's scopes here that gained tools of a higher risk since the person agreed. */
  reconsent: ToolReconsentFlag[];
}

const splitScopes = (value: unknown) => String(value ?? '').split(' ').filter(Boolean);

export async function buildConsentOffer(db: Db, provider: Provider, details: InteractionDetails): Promise<ConsentOffer> {
  const prompt = details.prompt.details as PromptDetails;
  const indicator = Object.keys(prompt.missingResourceScopes ?? {})[0]
    ?? (typeof details.params.resource === 'string' ? details.params.resource : undefined);
  const canonical = indicator ? tryCanonicalResourceUri(indicator) : undefined;
  const resource = canonical ? await findResourceForRequest(db, canonical) : undefined;
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const granted = new Set(indicator && grant ? splitScopes(grant.getResourceScope(indicator)) : []);
  const requested = new Set(splitScopes(details.params.scope));
  const declared = resource?.scopes ?? [];
  // Irreversible scopes are never "kept": each use is a new question.
  const kept = declared.filter((s) => s.risk !== 'irreversible' && granted.has(s.scope));
  const keptNames = new Set(kept.map((s) => s.scope));
  // Least privilege by default: read checked, write and irreversible left for the person to tick.
  const offered = declared
    .filter((s) => requested.has(s.scope) && !keptNames.has(s.scope))
    .map((s) => ({ ...s, checked: s.risk === 'read' }));
  // The account is read only for a page that shows its claims, from the request's prefetch when it has it.
  const missingOIDCScope = prompt.missingOIDCScope ?? [];
  const accountId = asksForIdentityClaims(missingOIDCScope) ? details.session?.accountId : undefined;
  const account = accountId ? requestCache.getAccount(accountId) ?? await findAccountById(db, accountId) : undefined;
  const claims = offeredClaims(missingOIDCScope, { email: account?.email });
  const policy = await withOrganisationPolicy(db, details.session?.accountId, resource, requested, { offered, kept });
  // Only flags of scopes the grant still holds here and the page keeps: those are what approving renews.
  const flags = details.grantId && resource ? await reconsentFlagsOf(db, details.grantId, resource.uri) : [];
  const reconsent = flags.filter((f) => policy.kept.some((s) => s.scope === f.scope) || policy.offered.some((s) => s.scope === f.scope));
  return { indicator, resource, claims, ...policy, reconsent };
}

/**
 * Issue 12: the organisation's policy (src/policies/), read now, takes out of the offer (and out of what is
 * kept) every scope above the risk it lets this person approve; each requested one is listed with why.
 * What is not offered cannot be approved: grantConsent refuses it (ScopeNotOfferedError).
 */
async function withOrganisationPolicy(
  db: Db, accountId: string | undefined, resource: Resource | undefined, requested: Set<string>,
  { offered, kept }: { offered: OfferedScope[]; kept: ResourceScope[] },
) {
  const decision: PolicyDecision = accountId && resource ? await decidePolicyFor(db, accountId, resource.uri) : { kind: 'unrestricted' };
  const withheld = (resource?.scopes ?? [])
    .filter((s) => requested.has(s.scope) && !policyAllows(decision, s.risk))
    .map((s) => ({ ...s, reason: withheldReason(decision, s.risk) }));
  return {
    offered: offered.filter((s) => policyAllows(decision, s.risk)), kept: kept.filter((s) => policyAllows(decision, s.risk)),
    withheld, decision,
  };
}

export async function describeConsent(offer: ConsentOffer, details: InteractionDetails, client: Client) {
  const prompt = details.prompt.details as PromptDetails;
  const redirectUri = URL.parse(String(details.params.redirect_uri ?? ''));
  const groups = riskClasses
    .map((risk: Risk) => ({ risk, scopes: offered(offer, risk) }))
    .filter((group) => group.scopes.length > 0);
  return {
    clientName: client?.clientName ?? client?.clientId ?? 'Unknown application',
    clientId: client?.clientId ?? '',
    identity: describeClientIdentity(client?.clientId ?? '',
      (client?.metadata() as { portcullis_source?: string } | undefined)?.portcullis_source),
    redirectHost: redirectUri?.host ?? '',
    redirectIsLoopback: isLoopbackHost(redirectUri?.hostname ?? ''),
    resourceName: offer.resource?.name ?? offer.indicator ?? '',
    resourceUri: offer.resource?.uri ?? offer.indicator ?? '',
    groups,
    kept: offer.kept,
    stepUp: offer.kept.length > 0 && offer.offered.length > 0,
    claims: offer.claims,
    withheld: offer.withheld,
    // Why the page shows again: per raised scope, the tools it now reaches (titles cleaned when flagged).
    reconsent: offer.reconsent.map((f) => ({ scope: f.scope, risk: f.risk, titles: f.tools.map((t) => t.title) })),
    signsIn: (prompt.missingOIDCScope ?? []).includes('openid'),
    wantsOfflineAccess: (prompt.missingOIDCScope ?? []).includes('offline_access'),
  };
}

const offered = (offer: ConsentOffer, risk: Risk) => offer.offered.filter((s) => s.risk === risk);

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

export class ScopeNotOfferedError extends Error {
  override name = 'ScopeNotOfferedError';
}

/**
 * Records an approval: the chosen scopes (which must all have been offered) join the grant, the
 * offered ones left unchecked are declined (so this request does not ask again), and irreversible
 * scopes not chosen now are removed from the grant.
 */
export async function grantConsent(
  provider: Provider, details: InteractionDetails, offer: ConsentOffer, chosen: string[], chosenClaims: string[] = [],
) {
  const offeredNames = new Set(offer.offered.map((s) => s.scope));
  const notOffered = chosen.filter((scope) => !offeredNames.has(scope));
  if (notOffered.length > 0) throw new ScopeNotOfferedError(`not offered: ${notOffered.join(' ')}`);
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
    ?? new provider.Grant({ accountId, clientId });
  const prompt = details.prompt.details as PromptDetails;
  // Identity claims only as ticked (issue 11 §5). `missingOIDCClaims` (the `claims` request
  // parameter) is never granted here: oidc-provider's claimsParameter feature stays off.
  recordIdentityAnswer(grant, prompt.missingOIDCScope ?? [], offer.claims, chosenClaims);
  // Withheld by policy counts as declined for this request, so oidc-provider does not ask again at once.
  const declined = [...offer.offered.map((s) => s.scope).filter((scope) => !chosen.includes(scope)), ...offer.withheld.map((s) => s.scope)];
  if (offer.indicator) {
    const irreversible = new Set((offer.resource?.scopes ?? []).filter((s) => s.risk === 'irreversible').map((s) => s.scope));
    const standing = splitScopes(grant.resources?.[offer.indicator]).filter((s) => !irreversible.has(s));
    grant.resources = { ...grant.resources, [offer.indicator]: standing.join(' ') };
    if (chosen.length > 0) grant.addResourceScope(offer.indicator, chosen.join(' '));
    forgetDeclinedNowChosen(grant, offer.indicator, chosen);
    if (declined.length > 0) grant.rejectResourceScope(offer.indicator, declined.join(' '));
  }
  const grantId = await grant.save();
  return {
    grantId, resource: offer.resource?.uri ?? offer.indicator, scopes: chosen, declined, kept: offer.kept.map((s) => s.scope),
    claims: chosenClaims, declinedClaims: offer.claims.map((c) => c.scope).filter((scope) => !chosenClaims.includes(scope)),
  };
}

type Grant = InstanceType<Provider['Grant']>;

/** A scope declined earlier and chosen now must leave the grant's declined list, or it stays hidden. */
function forgetDeclinedNowChosen(grant: Grant, indicator: string, chosen: string[]): void {
  const declined = grant.rejected?.resources?.[indicator];
  if (!declined) return;
  grant.rejected!.resources![indicator] = splitScopes(declined).filter((s) => !chosen.includes(s)).join(' ');
}
