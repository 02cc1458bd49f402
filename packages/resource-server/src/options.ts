// The options an MCP server author passes, and their validation: a bad option throws a TypeError at
// start (naming the option), so nothing is discovered about misconfiguration from a live request.
import { DEFAULT_DPOP_ALGORITHMS } from './dpop-proof.ts';
import { createMemoryDpopReplayStore, type DpopReplayStore } from './dpop-replay.ts';
import { canonicalResource, protectedResourceMetadataUrl } from './resource-uri.ts';

/** Verify tokens by RFC 7662 introspection instead of as RFC 9068 JWTs (opaque tokens, or revocation that bites at once). */
export interface IntrospectionOptions {
  /** This resource server's client at the authorization server (client_secret_basic). */
  clientId: string;
  clientSecret: string;
  /** RFC 7662 endpoint; default: `introspection_endpoint` from the AS metadata. */
  endpoint?: string;
  /** How long an answer is reused, in seconds (default 10; 0 disables). Revocation bites after at most this. */
  cacheTtlSeconds?: number;
}

/** DPoP (RFC 9449) settings: whether bearer tokens are refused, and how proofs are checked. */
export interface DpopOptions {
  /** `required`: only DPoP-bound tokens are accepted (and the metadata says so); default `allowed`. */
  mode?: 'allowed' | 'required';
  /** Accepted proof algorithms (default ES256, EdDSA, Ed25519, PS256, RS256); only asymmetric ones. */
  algorithms?: string[];
  /** How far a proof's `iat` may be from now, in seconds (default 60). */
  maxAgeSeconds?: number;
  /** Where proof `jti`s are remembered (default: bounded, in memory); share one across processes. */
  replayStore?: DpopReplayStore;
}

/** How `createResourceServer` is configured; every option is checked at start, naming the one that is wrong. */
export interface ResourceServerOptions {
  /** This MCP server's URL, e.g. `https://mcp.example.com/mcp`: the `aud` every token must carry. */
  resource: string;
  /** The authorization server's issuer, exactly as in its metadata and in tokens' `iss`. */
  issuer: string;
  /** The baseline scopes (RFC 9728 `scopes_supported`); also the `scope` of a 401 challenge. */
  scopesSupported?: string[];
  /** Human-readable name (RFC 9728 `resource_name`). */
  resourceName?: string;
  /** Allowed JWS algorithms (default ES256, EdDSA, RS256). Only asymmetric ones are accepted. */
  algorithms?: string[];
  /** Leeway for `exp`/`nbf`, in seconds (default 5). */
  clockToleranceSeconds?: number;
  /**
   * JWKS cache. `cacheMaxAgeMs` (default 60 s) bounds how long a fetched key set, and any token verified
   * with it, is trusted: a key the issuer retires stops being accepted within that time. A token with an
   * unknown `kid` triggers an early refetch, at most once per `cooldownMs` (default 30 s).
   */
  jwks?: { cooldownMs?: number; cacheMaxAgeMs?: number };
  /**
   * How long a verified JWT's result is reused, in seconds (default 60; never past the token's `exp`;
   * 0 disables). A repeated call with the same token then costs a hash instead of a signature check.
   */
  verifiedTokenCacheSeconds?: number;
  /** Verify tokens by RFC 7662 introspection instead of as JWTs (opaque tokens; revocation bites at once). */
  introspection?: IntrospectionOptions;
  /**
   * DPoP-bound tokens (`cnf.jkt`) are always verified with their proof; `'required'` (or `{ mode: 'required' }`)
   * also refuses bearer tokens. Default `'allowed'`.
   */
  dpop?: 'allowed' | 'required' | DpopOptions;
  /** Also serve the metadata at the root `/.well-known/oauth-protected-resource` (default false). */
  serveRootMetadata?: boolean;
  /** Timeout for each call to the authorization server, in milliseconds (default 5000). */
  httpTimeoutMs?: number;
  /** The fetch used for every call to the authorization server (default: the global one), e.g. to use a proxy. */
  fetch?: typeof fetch;
}

export interface ResolvedOptions {
  resource: string;
  resourceMetadataUrl: string;
  issuer: string;
  scopesSupported: string[] | undefined;
  resourceName: string | undefined;
  algorithms: string[];
  clockToleranceSeconds: number;
  jwksCooldownMs: number;
  jwksCacheMaxAgeMs: number;
  verifiedTokenCacheSeconds: number;
  introspection: Required<Omit<IntrospectionOptions, 'endpoint'>> & { endpoint: string | undefined } | undefined;
  serveRootMetadata: boolean;
  dpop: { required: boolean; algorithms: string[]; maxAgeSeconds: number; replayStore: DpopReplayStore };
  httpTimeoutMs: number;
  fetch: typeof fetch;
}

// RFC 9068 §4: the RS must refuse `none`; HMAC would mean sharing the AS's secret (and the classic
// alg-confusion attack verifies HS256 with the public key's bytes). Only public-key algorithms.
const ASYMMETRIC = new Set(['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
/** The signature algorithms accepted when `algorithms` is not set: ES256, EdDSA and RS256. */
export const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'];
// RFC 6749 §3.3 scope-token.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}

function httpUrl(name: string, value: string): string {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new TypeError(`${name} must be an http(s) URL`);
  return value;
}

export function resolveOptions(options: ResourceServerOptions): ResolvedOptions {
  const resource = canonicalResource(options.resource);
  const issuer = httpUrl('issuer', options.issuer);
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty');
  for (const alg of algorithms) {
    if (!ASYMMETRIC.has(alg)) throw new TypeError(`algorithm ${alg} is not allowed: only asymmetric JWS algorithms`);
  }
  for (const scope of options.scopesSupported ?? []) {
    if (!SCOPE_TOKEN.test(scope)) throw new TypeError(`scopesSupported has an invalid scope ${JSON.stringify(scope)}`);
  }
  const introspection = options.introspection;
  if (introspection && (!introspection.clientId || !introspection.clientSecret)) {
    throw new TypeError('introspection needs clientId and clientSecret');
  }
  const dpop = typeof options.dpop === 'string' ? { mode: options.dpop } : options.dpop ?? {};
  if (dpop.mode !== undefined && dpop.mode !== 'allowed' && dpop.mode !== 'required') throw new TypeError('dpop must be allowed or required');
  const dpopAlgorithms = dpop.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (dpopAlgorithms.length === 0) throw new TypeError('dpop.algorithms must not be empty');
  for (const alg of dpopAlgorithms) {
    if (!ASYMMETRIC.has(alg)) throw new TypeError(`dpop algorithm ${alg} is not allowed: only asymmetric JWS algorithms`);
  }
  return {
    resource,
    resourceMetadataUrl: protectedResourceMetadataUrl(resource),
    issuer,
    scopesSupported: options.scopesSupported,
    resourceName: options.resourceName,
    algorithms,
    clockToleranceSeconds: nonNegative('clockToleranceSeconds', options.clockToleranceSeconds, 5),
    jwksCooldownMs: nonNegative('jwks.cooldownMs', options.jwks?.cooldownMs, 30_000),
    jwksCacheMaxAgeMs: nonNegative('jwks.cacheMaxAgeMs', options.jwks?.cacheMaxAgeMs, 60_000),
    verifiedTokenCacheSeconds: nonNegative('verifiedTokenCacheSeconds', options.verifiedTokenCacheSeconds, 60),
    introspection: introspection && {
      clientId: introspection.clientId,
      clientSecret: introspection.clientSecret,
      endpoint: introspection.endpoint === undefined ? undefined : httpUrl('introspection.endpoint', introspection.endpoint),
      cacheTtlSeconds: nonNegative('introspection.cacheTtlSeconds', introspection.cacheTtlSeconds, 10),
    },
    serveRootMetadata: options.serveRootMetadata ?? false,
    dpop: {
      required: dpop.mode === 'required',
      algorithms: [...dpopAlgorithms],
      maxAgeSeconds: nonNegative('dpop.maxAgeSeconds', dpop.maxAgeSeconds, 60),
      replayStore: dpop.replayStore ?? createMemoryDpopReplayStore(),
    },
    httpTimeoutMs: nonNegative('httpTimeoutMs', options.httpTimeoutMs, 5000),
    // Looked up per call, not captured: the global may be replaced after the kit is created.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
  };
}
