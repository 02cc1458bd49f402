// exchangeToken(): an MCP server trades the token it received (audience: itself) for a short-lived one to a
// downstream API at the authorization server's token endpoint (RFC 8693), instead of passing the token on.
import { createMetadataDiscovery, type AuthorizationServerMetadata } from './as-metadata.ts';
import { isResourceServerError, TokenExchangeError } from './errors.ts';

/** RFC 8693 §2.1: the `grant_type` of a token exchange request. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What `exchangeToken()` needs: the authorization server, this server's own client, the token received and the downstream resource. */
export interface ExchangeTokenOptions {
  /** The authorization server (its RFC 8414 metadata names the token endpoint). */
  issuer: string;
  /** The token endpoint, to skip discovery. */
  tokenEndpoint?: string;
  /** This MCP server's own client (Portcullis: `client add --introspection --resource <this server>`). */
  clientId: string;
  clientSecret: string;
  /** The access token this server received (`req.auth.token`): its audience must be this server. */
  subjectToken: string;
  /** The downstream resource the new token is for: its audience, exactly. */
  resource: string;
  /** Scopes to ask for; default: everything the operator allows on this chain. */
  scope?: string | readonly string[];
  fetch?: typeof fetch;
  /** Per request (discovery and the exchange), default 5000 ms. */
  timeoutMs?: number;
}

/** The token `exchangeToken()` got for the downstream resource (RFC 8693 §2.2.1). */
export interface ExchangedToken {
  /** Send it to `resource` only, as `Authorization: Bearer …`. */
  accessToken: string;
  tokenType: string;
  /** The token type the server issued (RFC 8693 §2.2.1): an access token. */
  issuedTokenType: string;
  expiresIn: number;
  /** Seconds since the epoch. */
  expiresAt: number;
  scopes: string[];
}

// One discovery per issuer and fetch implementation, shared by every call (as-metadata.ts memoises it).
const discoveries = new WeakMap<typeof fetch, Map<string, () => Promise<AuthorizationServerMetadata>>>();
function discoveryFor(issuer: string, timeoutMs: number, fetchImpl: typeof fetch) {
  let byIssuer = discoveries.get(fetchImpl);
  if (!byIssuer) discoveries.set(fetchImpl, byIssuer = new Map());
  let discover = byIssuer.get(issuer);
  if (!discover) byIssuer.set(issuer, discover = createMetadataDiscovery(issuer, timeoutMs, fetchImpl));
  return discover;
}

// RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

async function tokenEndpointOf(options: ExchangeTokenOptions, fetchImpl: typeof fetch, timeoutMs: number): Promise<string> {
  if (options.tokenEndpoint) return options.tokenEndpoint;
  try {
    const endpoint = (await discoveryFor(options.issuer, timeoutMs, fetchImpl)()).token_endpoint;
    if (endpoint && URL.parse(endpoint)) return endpoint;
    throw new TokenExchangeError('temporarily_unavailable', 'the authorization server metadata has no token_endpoint');
  } catch (error) {
    if (isResourceServerError(error)) throw new TokenExchangeError('temporarily_unavailable', error.message, { cause: error });
    throw error;
  }
}

/**
 * Exchanges `subjectToken` for an access token to `resource` (RFC 8693 §2.1), authenticating as this
 * server's client (client_secret_basic). Throws TokenExchangeError with the authorization server's
 * `error` as its code; nothing is cached: ask again for each downstream call, or reuse until `expiresAt`.
 */
export async function exchangeToken(options: ExchangeTokenOptions): Promise<ExchangedToken> {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const endpoint = await tokenEndpointOf(options, fetchImpl, timeoutMs);
  const scope = typeof options.scope === 'string' ? options.scope : options.scope?.join(' ');
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT_TYPE, subject_token: options.subjectToken, subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE, resource: options.resource, ...(scope ? { scope } : {}),
  });
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded', accept: 'application/json',
        authorization: `Basic ${Buffer.from(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`).toString('base64')}`,
      },
    });
  } catch (error) {
    throw new TokenExchangeError('temporarily_unavailable', `the token endpoint could not be reached: ${(error as Error).message}`, { cause: error });
  }
  const answer = await response.json().catch(() => undefined) as Record<string, unknown> | undefined;
  if (response.status >= 500) throw new TokenExchangeError('temporarily_unavailable', `the token endpoint answered HTTP ${response.status}`, { status: response.status });
  if (response.status !== 200) throw TokenExchangeError.fromOAuthError(answer?.error, answer?.error_description, response.status);
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn, issued_token_type: issued } = answer ?? {};
  if (typeof accessToken !== 'string' || accessToken === '' || typeof tokenType !== 'string' || typeof expiresIn !== 'number') {
    throw new TokenExchangeError('invalid_response', 'the token endpoint answered without an access token', { status: 200 });
  }
  if (issued !== undefined && issued !== ACCESS_TOKEN_TYPE) {
    throw new TokenExchangeError('invalid_response', `the token endpoint issued ${String(issued)}, not an access token`, { status: 200 });
  }
  return {
    accessToken, tokenType, issuedTokenType: ACCESS_TOKEN_TYPE, expiresIn,
    expiresAt: Math.floor(Date.now() / 1000) + expiresIn,
    scopes: typeof answer?.scope === 'string' ? answer.scope.split(' ').filter(Boolean) : [],
  };
}
