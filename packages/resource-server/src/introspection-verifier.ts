// Verifies (opaque) access tokens by asking the authorization server (RFC 7662), so a revoked token
// stops working within the cache lifetime. The answer is checked as strictly as a JWT would be.
import { boundDpopKey, checkAudience, toAccessTokenInfo } from './access-token-info.ts';
import type { AuthorizationServerMetadata } from './as-metadata.ts';
import { invalidToken, ResourceServerError, unavailable } from './errors.ts';
import { createIntrospectionCache } from './introspection-cache.ts';
import type { TokenVerifier } from './jwt-verifier.ts';
import type { ResolvedOptions } from './options.ts';

// RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

type Answer = { claims: Record<string, unknown> } | { error: ResourceServerError };

/** The checks an introspection answer must pass; `now` in seconds. */
function checkAnswer(claims: Record<string, unknown>, options: ResolvedOptions, now: number): void {
  if (claims.active !== true) throw invalidToken('the token is not active');
  // oidc-provider reports no token_type for refresh tokens: requiring Bearer (or DPoP for a token bound
  // to a DPoP key, RFC 9449 §6.1) keeps them out. The proof itself is checked by authenticate.
  const expectedType = boundDpopKey(claims) === undefined ? 'bearer' : 'dpop';
  if (typeof claims.token_type !== 'string' || claims.token_type.toLowerCase() !== expectedType) {
    throw invalidToken(`the token is not a ${expectedType === 'bearer' ? 'bearer' : 'DPoP'} access token`);
  }
  if (claims.iss !== undefined && claims.iss !== options.issuer) throw invalidToken('the token is from another issuer');
  checkAudience(claims.aud, options.resource);
  const tolerance = options.clockToleranceSeconds;
  if (typeof claims.exp !== 'number') throw invalidToken('the token has no expiry');
  if (claims.exp + tolerance <= now) throw invalidToken('the token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf - tolerance > now) throw invalidToken('the token is not valid yet');
}

export function createIntrospectionVerifier(options: ResolvedOptions, discover: () => Promise<AuthorizationServerMetadata>): TokenVerifier {
  const settings = options.introspection!;
  const cache = createIntrospectionCache<Answer>(settings.cacheTtlSeconds * 1000);
  const authorization = `Basic ${Buffer.from(`${formEncode(settings.clientId)}:${formEncode(settings.clientSecret)}`).toString('base64')}`;

  const endpoint = async () => {
    if (settings.endpoint) return settings.endpoint;
    const found = (await discover()).introspection_endpoint;
    if (!found || !URL.parse(found)) throw unavailable('the authorization server metadata has no introspection_endpoint');
    return found;
  };

  const introspect = async (token: string): Promise<Record<string, unknown>> => {
    let response: Response;
    try {
      response = await options.fetch(await endpoint(), {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(options.httpTimeoutMs),
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
    } catch (error) {
      throw error instanceof ResourceServerError ? error : unavailable('the introspection endpoint could not be reached', error);
    }
    // 401 here means our own client credentials are wrong: a server problem, not the caller's token.
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(`the introspection endpoint answered HTTP ${response.status}`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unavailable('the introspection answer is not a JSON object');
    return body as Record<string, unknown>;
  };

  return async (token) => {
    let answer = cache.get(token);
    if (!answer) {
      const claims = await introspect(token);
      try {
        checkAnswer(claims, options, Date.now() / 1000);
        toAccessTokenInfo(token, claims, options);
        answer = { claims };
        cache.set(token, answer, (claims.exp as number) * 1000);
      } catch (error) {
        answer = { error: error as ResourceServerError };
        cache.set(token, answer, Number.POSITIVE_INFINITY);
      }
    }
    if ('error' in answer) throw answer.error;
    // Time passes while an answer is cached: the expiry is checked again on every use.
    checkAnswer(answer.claims, options, Date.now() / 1000);
    return toAccessTokenInfo(token, answer.claims, options);
  };
}
