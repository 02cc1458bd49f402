// The upstream side of federated sign-in, through openid-client (no protocol written here): the client
// configuration of one identity provider (OIDC Discovery 1.0 for `oidc`, GitHub's fixed OAuth endpoints),
// every request of it sent through the SSRF-safe outbound fetch (src/outbound/fetch-public-json.ts).
import * as client from 'openid-client';
import { fetchPublicJson, mediaTypeOf, type PublicJsonFetchOptions, type PublicJsonFailure } from '../outbound/fetch-public-json.ts';
import { openClientSecret } from './secret.ts';
import type { IdentityProvider } from './store.ts';

export interface UpstreamDeps {
  keyEncryptionSecret: string;
  /** CIMD_ALLOW_LOOPBACK: development servers on loopback may answer, whatever the provider's address. */
  allowLoopback: boolean;
  github: { webUrl: string; apiUrl: string };
}

/** Why a request to the provider failed at our end (refused address, timeout, not JSON…): audited, never shown raw. */
export class UpstreamFetchError extends Error {
  override name = 'UpstreamFetchError';
  constructor(readonly url: string, readonly failure: PublicJsonFailure) { super(`${new URL(url).origin}: ${failure.code}`); }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);
const isLoopback = (url: string) => LOOPBACK.has(new URL(url).hostname.replace(/^\[|\]$/g, ''));
const FETCH_TIMEOUT_MS = 5_000;
const FETCH_MAX_BYTES = 256 * 1024;

/**
 * openid-client's requests through our fetch: public addresses only (loopback only when the operator put
 * the provider itself there, or in development), no redirects, a deadline and a size cap. A refusal throws,
 * and openid-client passes the error on to the caller as it would a network failure.
 */
function outboundFetch(options: PublicJsonFetchOptions): client.CustomFetch {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => { headers[key] = value; });
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    const result = await fetchPublicJson(new URL(url), options, { method: init.method === 'POST' ? 'POST' : 'GET', headers, body });
    if (!result.ok) throw new UpstreamFetchError(url, result.failure);
    return new Response(JSON.stringify(result.body), { status: 200, headers: { 'content-type': mediaTypeOf(result.headers['content-type']) } });
  };
}

/** The endpoints GitHub's OAuth apps use (docs.github.com, "Authorizing OAuth apps"); it has no discovery. */
export const githubEndpoints = (deps: UpstreamDeps) => ({
  authorization_endpoint: `${deps.github.webUrl}/login/oauth/authorize`,
  token_endpoint: `${deps.github.webUrl}/login/oauth/access_token`,
  user: `${deps.github.apiUrl}/user`,
  emails: `${deps.github.apiUrl}/user/emails`,
});

/** openid-client's Configuration for this provider, its secret opened from its sealed form. */
export async function upstreamConfiguration(provider: IdentityProvider, deps: UpstreamDeps): Promise<client.Configuration> {
  const secret = await openClientSecret(provider.clientSecretJwe, deps.keyEncryptionSecret);
  if (provider.kind === 'github' || provider.issuer === null) {
    const endpoints = githubEndpoints(deps);
    const fetchOptions = { allowLoopback: deps.allowLoopback || isLoopback(endpoints.token_endpoint), timeoutMs: FETCH_TIMEOUT_MS, maxBytes: FETCH_MAX_BYTES, userAgent: 'Portcullis' };
    // GitHub names no issuer; this one is ours alone, never compared with anything GitHub sends.
    const config = new client.Configuration(
      { issuer: deps.github.webUrl, authorization_endpoint: endpoints.authorization_endpoint, token_endpoint: endpoints.token_endpoint },
      provider.clientId, secret, client.ClientSecretPost(secret));
    config[client.customFetch] = outboundFetch(fetchOptions);
    if (new URL(endpoints.token_endpoint).protocol === 'http:') client.allowInsecureRequests(config);
    return config;
  }
  const issuer = provider.issuer;
  const fetchOptions = { allowLoopback: deps.allowLoopback || isLoopback(issuer), timeoutMs: FETCH_TIMEOUT_MS, maxBytes: FETCH_MAX_BYTES, userAgent: 'Portcullis' };
  // Discovery insists the document names exactly this issuer (§4.3); the ID token's `iss` must then be it too.
  // The ID token's signature is checked against the provider's published keys (its jwks_uri, fetched the same
  // SSRF-safe way). openid-client skips that for token-endpoint answers unless asked, as OIDC Core §3.1.3.7
  // lets TLS stand in for it; we ask, so a token the provider's keys did not sign never names a person here.
  return client.discovery(new URL(issuer), provider.clientId, { client_secret: secret }, client.ClientSecretBasic(secret), {
    [client.customFetch]: outboundFetch(fetchOptions),
    execute: [client.enableNonRepudiationChecks, ...(new URL(issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [])],
  });
}
