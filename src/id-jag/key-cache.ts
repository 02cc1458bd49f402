// The trusted issuers' signing keys, fetched SSRF-safely and kept for a few minutes per server process, so
// an exchange does not cost two outbound requests (discovery and JWKS); refetched once on an unknown `kid`.
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { fetchPublicJson, type PublicJsonFetchOptions } from '../outbound/fetch-public-json.ts';
import { IdJagRefusal } from './refusal.ts';

/** How long fetched keys and discovery documents are used before they are fetched again. */
export const KEY_CACHE_SECONDS = 300;
/**
 * A key set younger than this is not refetched for an unknown `kid`: an IdP rotates keys rarely, and a
 * stream of assertions naming made-up `kid`s must not become a stream of requests to the IdP.
 */
export const REFETCH_COOLDOWN_SECONDS = 30;

type KeySet = ReturnType<typeof createLocalJWKSet>;
interface Entry<T> { value: T; fetchedAt: number }

/** Where an issuer's keys come from: its JWKS URL, or its OpenID discovery document (federated providers). */
export type KeySource = { jwksUri: string } | { discoverFrom: string };

export interface IssuerKeys {
  keys: KeySet;
  /** Whether these keys may be refetched now (they came from the network and are past the cooldown). */
  refetchable: boolean;
}

export function createIssuerKeyCache(fetch: PublicJsonFetchOptions, now: () => number = Date.now) {
  const keySets = new Map<string, Entry<KeySet>>();
  const discovered = new Map<string, Entry<string>>();
  const ageOf = (entry: Entry<unknown>) => (now() - entry.fetchedAt) / 1000;

  /** OpenID Connect Discovery 1.0 §4.3: the document must name exactly this issuer, or its keys are not the issuer's. */
  async function discoveredJwksUri(issuer: string): Promise<string> {
    const cached = discovered.get(issuer);
    if (cached && ageOf(cached) < KEY_CACHE_SECONDS) return cached.value;
    const fetched = await fetchPublicJson(new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`), fetch);
    const document = fetched.ok ? fetched.body as { issuer?: unknown; jwks_uri?: unknown } : undefined;
    if (!document || document.issuer !== issuer || typeof document.jwks_uri !== 'string' || !URL.canParse(document.jwks_uri)) {
      throw new IdJagRefusal('jwks_unavailable', 'the identity provider\'s discovery document names no keys for this issuer', { issuer });
    }
    discovered.set(issuer, { value: document.jwks_uri, fetchedAt: now() });
    return document.jwks_uri;
  }

  async function fetchKeySet(issuer: string, jwksUri: string): Promise<KeySet> {
    const fetched = await fetchPublicJson(new URL(jwksUri), fetch);
    if (!fetched.ok) throw new IdJagRefusal('jwks_unavailable', 'the issuer\'s keys could not be fetched', { issuer });
    try { return createLocalJWKSet(fetched.body as JSONWebKeySet); } catch {
      throw new IdJagRefusal('jwks_unavailable', 'the issuer\'s key set is not a JWKS', { issuer });
    }
  }

  /**
   * The issuer's keys from `source`; `fresh` skips the cache (an unknown `kid` past the cooldown). The
   * cache is keyed by issuer and URL, so an operator pointing an issuer at new keys is seen at once.
   */
  async function keysFor(issuer: string, source: KeySource, fresh = false): Promise<IssuerKeys> {
    const jwksUri = 'jwksUri' in source ? source.jwksUri : await discoveredJwksUri(source.discoverFrom);
    const key = `${issuer} ${jwksUri}`;
    const cached = keySets.get(key);
    if (cached && !fresh && ageOf(cached) < KEY_CACHE_SECONDS) {
      return { keys: cached.value, refetchable: ageOf(cached) >= REFETCH_COOLDOWN_SECONDS };
    }
    const keys = await fetchKeySet(issuer, jwksUri);
    keySets.set(key, { value: keys, fetchedAt: now() });
    return { keys, refetchable: false };
  }

  return { keysFor };
}

export type IssuerKeyCache = ReturnType<typeof createIssuerKeyCache>;
