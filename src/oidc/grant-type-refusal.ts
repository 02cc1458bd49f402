// RFC 6749 §5.2's code for a client that may not use the grant type it asked for: unauthorized_client.
// oidc-provider 9 answers invalid_request there; this corrects the code on the token route only.
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

/**
 * Runs around oidc-provider's routes (provider.use). Judged by the client's own grant types, not by the
 * error's wording: a 400 for an authenticated client that lacks the requested grant type is that refusal
 * (oidc-provider checks the grant type right after authenticating the client). SEP-1046 clients and
 * their libraries tell "not a machine client" from a malformed request by it.
 */
export function answerUnauthorizedClient(): Parameters<Provider['use']>[0] {
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    const body = ctx.body as { error?: unknown } | undefined;
    const grantType = oidc?.params?.grant_type;
    if (oidc?.route !== 'token' || ctx.status !== 400 || body?.error !== 'invalid_request' || typeof grantType !== 'string') return;
    if (oidc.client && !oidc.client.grantTypeAllowed(grantType)) body.error = 'unauthorized_client';
  };
}
