// Verifies JWT access tokens (RFC 9068) locally: keys from the issuer's JWKS (discovered, trusted for at
// most jwks.cacheMaxAgeMs, refetched early on an unknown kid), allow-listed algorithms, typ, iss, aud, cnf only jkt.
import { createRemoteJWKSet, customFetch, errors, jwksCache, jwtVerify, type JWKSCacheInput } from 'jose';
import { boundDpopKey, checkAudience, toAccessTokenInfo, type AccessTokenInfo } from './access-token-info.ts';
import type { AuthorizationServerMetadata } from './as-metadata.ts';
import { invalidToken, ResourceServerError, unavailable } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import { createIntrospectionCache } from './introspection-cache.ts';

export type TokenVerifier = (token: string) => Promise<AccessTokenInfo>;

// Messages are ours, never jose's or the token's text: nothing the caller sent is echoed into headers.
const CLAIM_MESSAGES: Record<string, string> = {
  iss: 'the token is from another issuer',
  nbf: 'the token is not valid yet',
  typ: 'the token is not a JWT access token (typ must be at+jwt)',
  exp: 'the token has no valid expiry',
};

/** jose's verdict as one of ours: problems reaching the issuer are 503s, everything else invalid_token. */
function mapJoseError(error: unknown): ResourceServerError {
  if (error instanceof ResourceServerError) return error;
  if (!(error instanceof errors.JOSEError)) return unavailable('the authorization server keys could not be fetched', error);
  switch (error.code) {
    case 'ERR_JWT_EXPIRED': return invalidToken('the token has expired', error);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as errors.JWTClaimValidationFailed).claim;
      return invalidToken(CLAIM_MESSAGES[claim] ?? `the token claim ${claim} is invalid`, error);
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return invalidToken('the token signing algorithm is not allowed', error);
    case 'ERR_JWKS_NO_MATCHING_KEY': return invalidToken('no signing key of the authorization server matches the token', error);
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS': return invalidToken('the token does not say which signing key to use', error);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return invalidToken('the token signature is invalid', error);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID': return invalidToken('the token is malformed', error);
    // The JWKS fetch failed, timed out or returned something that is not a key set.
    case 'ERR_JOSE_GENERIC':
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID': return unavailable('the authorization server keys could not be fetched', error);
    default: return invalidToken('the token cannot be verified', error);
  }
}

export function createJwtVerifier(options: ResolvedOptions, discover: () => Promise<AuthorizationServerMetadata>): TokenVerifier {
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  // jose records here when it last fetched the key set (`uat`): a verified token is not reused past the
  // moment that key set stops being trusted, so a retired key stops working within cacheMaxAge in all.
  const fetchedKeys: { uat?: number } = {};
  const keys = () => {
    if (!keySet) {
      keySet = discover().then((metadata) => {
        const jwksUri = metadata.jwks_uri && URL.parse(metadata.jwks_uri);
        if (!jwksUri) throw unavailable('the authorization server metadata has no usable jwks_uri');
        return createRemoteJWKSet(jwksUri, {
          cooldownDuration: options.jwksCooldownMs,
          cacheMaxAge: options.jwksCacheMaxAgeMs,
          timeoutDuration: Math.ceil(options.httpTimeoutMs),
          [customFetch]: options.fetch,
          [jwksCache]: fetchedKeys as JWKSCacheInput,
        });
      });
      // A failed discovery is retried later (discovery itself backs off), not remembered forever.
      keySet.catch(() => { keySet = undefined; });
    }
    return keySet;
  };

  // The same bounded, hash-keyed cache as introspection answers: a client sends one token for many
  // calls, and a signature check is most of what the kit costs per call. Only successes are kept.
  const verified = createIntrospectionCache<AccessTokenInfo>(options.verifiedTokenCacheSeconds * 1000);

  return async (token) => {
    const cached = verified.get(token);
    if (cached) return cached;
    try {
      const jwks = await keys();
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        algorithms: options.algorithms,
        typ: 'at+jwt',
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      });
      checkAudience(payload.aud, options.resource);
      // RFC 9449 §6 / RFC 8705 §3: a key-bound token is usable only with proof of that key; the caller
      // (authenticate) checks the DPoP proof, and an mTLS binding is refused here.
      boundDpopKey(payload);
      const info = toAccessTokenInfo(token, payload, options);
      const keysTrustedUntil = (fetchedKeys.uat ?? 0) + options.jwksCacheMaxAgeMs;
      verified.set(token, info, Math.min((payload.exp ?? 0) * 1000, keysTrustedUntil));
      return info;
    } catch (error) {
      throw mapJoseError(error);
    }
  };
}
