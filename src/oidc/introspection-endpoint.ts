// What /token/introspection (RFC 7662) answers beyond oidc-provider's own handler: a caller without client
// authentication is refused, and a JWT access token (which oidc-provider refuses to introspect) gets an answer.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { respondWithOAuthError } from '../errors.ts';
import { introspectionAllowed } from './introspection-policy.ts';

// The private members of EC, OKP and RSA keys: what remains is the public key we publish at /jwks.
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

type Answer = Record<string, unknown>;

/** RFC 7662 §2.2 for one of our JWT access tokens: its claims when valid and the caller may see them. */
async function answerForJwt(ctx: KoaContextWithOIDC, token: string, keys: ReturnType<typeof createLocalJWKSet>, algorithms: string[]): Promise<Answer> {
  let payload;
  try {
    // Exactly what a resource server checks (RFC 9068 §4), against the keys we publish now: a token of a
    // retired key, an expired one, an ID token or a forgery is not active.
    ({ payload } = await jwtVerify(token, keys, { issuer: ctx.oidc.provider.issuer, typ: 'at+jwt', algorithms, requiredClaims: ['exp'] }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return { active: false };
    throw error;
  }
  const client = ctx.oidc.client!;
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  if (!introspectionAllowed(ctx, client, { kind: 'AccessToken', clientId, aud: payload.aud })) return { active: false };
  const cnf = payload.cnf as Record<string, unknown> | undefined;
  // RFC 9449 §6.1: a DPoP-bound token's type is DPoP; our opaque answers carry the same token_type.
  return { ...payload, active: true, token_type: typeof cnf?.jkt === 'string' ? 'DPoP' : 'Bearer' };
}

/** The keys we publish at /jwks (private members dropped) and their algorithms: what checks our own JWTs. */
export function publishedKeySet(jwks: readonly JWK[]) {
  const publicKeys = jwks.map((jwk) => Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.has(name))) as JWK);
  const keys = createLocalJWKSet({ keys: publicKeys });
  const algorithms = [...new Set(publicKeys.map((jwk) => jwk.alg).filter((alg): alg is string => typeof alg === 'string'))];
  return { keys, algorithms };
}

/** One of our JWT access tokens verified exactly as answerForJwt checks it (RFC 9068 §4); undefined when it is not. */
export async function verifyOwnAccessTokenJwt(token: string, issuer: string, keySet: ReturnType<typeof publishedKeySet>) {
  try {
    return (await jwtVerify(token, keySet.keys, { issuer, typ: 'at+jwt', algorithms: keySet.algorithms, requiredClaims: ['exp'] })).payload;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return undefined;
    throw error;
  }
}

/**
 * Runs around oidc-provider's introspection route (provider.use): it reads what the route decided
 * (the authenticated client, the params) and completes or replaces the answer.
 */
export function completeIntrospection(jwks: readonly JWK[]): Parameters<Provider['use']>[0] {
  const { keys, algorithms } = publishedKeySet(jwks);

  return async (ctx, next) => {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'introspection' || !oidc.client) return;
    // RFC 7662 §2.1: the endpoint MUST require authorization, or anyone holding a copied refresh token and
    // a public client_id could probe it. A public client authenticates with nothing, so per §2.3 its call
    // is refused as unauthenticated (401 invalid_client), whatever the token, rather than told active:false.
    if (oidc.client.clientAuthMethod === 'none') {
      // The same answer as a wrong client secret (oidc-provider's InvalidClientAuth).
      // Written here, not thrown: this runs after oidc-provider's route, outside its error handler.
      return respondWithOAuthError(ctx, new errors.InvalidClientAuth('client authentication is required to introspect tokens'));
    }
    // oidc-provider's rejectStructuredTokens answered 400 unsupported_token_type, after authenticating the
    // client; RFC 7662 wants active true or false for any token, so we check the JWT ourselves.
    const body = ctx.body as Answer | undefined;
    const token = oidc.params?.token;
    if (ctx.status === 400 && body?.error === 'unsupported_token_type' && typeof token === 'string') {
      ctx.body = await answerForJwt(ctx as KoaContextWithOIDC, token, keys, algorithms);
      ctx.status = 200;
    }
  };
}
