// Identity claims (OpenID Connect Core §5.4) are consented like resource scopes: which of the person's
// claims a request would release, the line items the consent page shows, and what approving records.
import type Provider from 'oidc-provider';

/**
 * The one table of identity scopes and the claims they release: oidc-provider's `claims` option is
 * built from it (src/oidc/provider.ts), so every claim the server can release has a consent line.
 * `openid` releases only `sub`, an opaque account identifier, and is not optional for a sign-in.
 */
export const IDENTITY_SCOPES = {
  email: { claims: ['email'], label: 'Your email address' },
} as const satisfies Record<string, { claims: readonly string[]; label: string }>;

export type IdentityScope = keyof typeof IDENTITY_SCOPES;

/** oidc-provider's `claims` configuration: scope → claims it releases. */
export const oidcClaimsConfiguration = {
  openid: ['sub'],
  ...Object.fromEntries(Object.entries(IDENTITY_SCOPES).map(([scope, { claims }]) => [scope, [...claims]])),
} as Record<string, string[]>;

/** One line of the consent page: the claim's name in words and the value the client would receive. */
export interface OfferedClaim { scope: IdentityScope; label: string; value: string }

const isIdentityScope = (scope: string): scope is IdentityScope => Object.hasOwn(IDENTITY_SCOPES, scope);

/**
 * The identity scopes this request asks and no earlier answer covers (oidc-provider's `op_scopes_missing`
 * check lists them as `missingOIDCScope`; a scope the person declined before counts as answered).
 * `claimValues` is the person's own data, shown so they see exactly what would leave.
 */
/** Whether the consent page will show an identity line, so the account's claim values must be read. */
export const asksForIdentityClaims = (missingOIDCScope: readonly string[]) => missingOIDCScope.some(isIdentityScope);

export function offeredClaims(missingOIDCScope: readonly string[], claimValues: Record<string, unknown>): OfferedClaim[] {
  return missingOIDCScope.filter(isIdentityScope).map((scope) => ({
    scope,
    label: IDENTITY_SCOPES[scope].label,
    value: IDENTITY_SCOPES[scope].claims.map((claim) => String(claimValues[claim] ?? '')).filter(Boolean).join(', '),
  }));
}

export class ClaimNotOfferedError extends Error {
  override name = 'ClaimNotOfferedError';
}

type Grant = InstanceType<Provider['Grant']>;

/**
 * Records the answer in oidc-provider's grant: the protocol scopes asked (`openid`, `offline_access`)
 * and the identity scopes the person ticked are added; the ones left unticked are rejected, so the
 * ID token omits their claims and the next request for them does not ask again (until the grant is
 * revoked on /account).
 */
export function recordIdentityAnswer(grant: Grant, missingOIDCScope: readonly string[], offered: OfferedClaim[], chosen: readonly string[]): void {
  const offeredNames = new Set<string>(offered.map((claim) => claim.scope));
  const notOffered = chosen.filter((scope) => !offeredNames.has(scope));
  if (notOffered.length > 0) throw new ClaimNotOfferedError(`not offered: ${notOffered.join(' ')}`);
  const approved = missingOIDCScope.filter((scope) => !isIdentityScope(scope) || chosen.includes(scope));
  const declined = [...offeredNames].filter((scope) => !chosen.includes(scope));
  if (approved.length > 0) grant.addOIDCScope(approved.join(' '));
  if (declined.length > 0) grant.rejectOIDCScope(declined.join(' '));
}
