// DPoP-required resources (RFC 9449, migration 0021) at the token endpoint: a token for such a resource is
// issued only to a request with a DPoP proof, and never leaves unbound. The proof itself is oidc-provider's.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import type { Resource } from '../resources/schema.ts';

/**
 * The DPoP proof algorithms we verify (`dpop_signing_alg_values_supported`): asymmetric only (RFC 9449
 * §4.2; MCP ext-auth DPoP draft §Authorization Server Metadata). The kit's default list is the same, so
 * a token bound here can be presented to an MCP server that uses the kit's defaults.
 */
export const DPOP_SIGNING_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const;

const ACCESS_TOKEN_KINDS = new Set(['AccessToken', 'ClientCredentials']);

const unbound = (resource: Resource) =>
  `resource ${JSON.stringify(resource.uri)} accepts only DPoP-bound tokens: send a DPoP proof (RFC 9449) with the token request`;

async function refuse(db: Db, ctx: KoaContextWithOIDC, resource: Resource, reason: 'no_dpop_proof' | 'grant_does_not_bind', description: string): Promise<never> {
  await recordAuditEvent(db, {
    type: 'token.dpop_required', outcome: 'failure', actor: { type: 'client', id: ctx.oidc.client?.clientId },
    clientId: ctx.oidc.client?.clientId, resource: resource.uri,
    ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined,
    details: { grant_type: ctx.oidc.params?.grant_type ?? null, reason },
  });
  throw new errors.InvalidDpopProof(description);
}

/**
 * The token-endpoint rule, run from the resource lookup (getResourceServerInfo) that every grant calls to
 * learn a token's audience: authorization_code, refresh_token, jwt-bearer, and grants added later. A
 * request for a DPoP-required resource without a `DPoP` header is refused with `invalid_dpop_proof` (not
 * `invalid_grant`: clients drop a refresh token on that) and audited as `token.dpop_required`. A header
 * that is there has already been verified by oidc-provider's grant handlers (validateDpop runs first).
 */
export async function requireDpopProof(db: Db, ctx: KoaContextWithOIDC, resource: Resource): Promise<void> {
  if (resource.dpop !== 'required' || ctx.oidc.route !== 'token' || ctx.get('DPoP')) return;
  await refuse(db, ctx, resource, 'no_dpop_proof', unbound(resource));
}

/**
 * The same rule before a code or refresh token is consumed (the adapter's consume guard, rotateRefreshToken),
 * for the resource it was issued for: a refused request then leaves it usable for a retry with a proof.
 */
export async function requireDpopProofBeforeConsume(
  db: Db, ctx: KoaContextWithOIDC, find: (uri: string) => Promise<Resource | undefined>, stored: string | string[] | undefined,
): Promise<void> {
  if (ctx.oidc.route !== 'token' || ctx.get('DPoP')) return;
  for (const uri of [stored ?? []].flat()) {
    const resource = await find(uri);
    if (resource) await requireDpopProof(db, ctx, resource);
  }
}

/**
 * The backstop, from extraTokenClaims (called for every access token oidc-provider saves, opaque or JWT):
 * a token for a DPoP-required resource that carries no key binding is not issued. It catches a grant
 * that does not bind tokens even when the client sent a proof, such as our jwt-bearer grant (custom
 * grants get no DPoP helper from oidc-provider, and we do not verify proofs by hand).
 */
export async function refuseUnboundAccessToken(
  db: Db, ctx: KoaContextWithOIDC, resource: Resource | undefined, token: { kind?: string; jkt?: unknown },
): Promise<void> {
  // ClientCredentials is the access token of the client_credentials grant (a model of its own in oidc-provider).
  if (resource?.dpop !== 'required' || !ACCESS_TOKEN_KINDS.has(String(token.kind)) || typeof token.jkt === 'string') return;
  await refuse(db, ctx, resource, 'grant_does_not_bind', `${unbound(resource)}; the ${String(ctx.oidc.params?.grant_type)} grant does not issue DPoP-bound tokens`);
}
