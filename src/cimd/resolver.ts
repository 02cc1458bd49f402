// Resolves a URL client_id to client metadata: domain policy → database cache → remembered failure →
// SSRF-safe fetch → validation (ours, then oidc-provider's) → cache, recording a change of name or redirect URIs.
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { log } from '../log.ts';
import { cacheLifetimeSeconds } from './cache-lifetime.ts';
import { clientMetadataFromDocument, type ClientMetadata } from './document.ts';
import { isDomainAllowed, loadDomainPolicy, type ConfiguredDomainPolicy } from './domain-policy.ts';
import { MetadataDocumentError } from './errors.ts';
import { fetchMetadataDocument, type FetchOptions } from './fetch-document.ts';
import { FAILURE_MEMORY_SECONDS, findRememberedFailure, rememberFailure } from './failure-store.ts';
import { findCachedDocument, forgetFlagsOfVanishedGrants, saveFetchedDocument } from './store.ts';

export interface ResolverDeps {
  db: Db;
  domainPolicy: ConfiguredDomainPolicy;
  fetch: FetchOptions;
  /** oidc-provider's own client validation, so a document it would refuse is never cached. */
  validateClient(metadata: ClientMetadata): Promise<void>;
  /** Runs before each fetch and may throw to refuse it: the fetch rate limit (src/rate-limit/provider-hooks.ts). */
  beforeFetch?(url: URL): Promise<void>;
}

export interface MetadataDocumentResolver {
  resolve(clientId: string): Promise<ClientMetadata>;
}

/** A client_id that names a metadata document (MCP 2025-11-25): an https URL. */
export const isMetadataDocumentClientId = (clientId: string) => /^https:\/\//i.test(clientId);

/** The shape the CIMD draft (§3) requires of the URL, checked before anything is fetched. */
function parseClientIdUrl(clientId: string): URL {
  const url = URL.parse(clientId);
  const problem = !url || url.protocol !== 'https:' ? 'must be an https URL'
    : url.username || url.password ? 'must not contain credentials'
      : url.hash || clientId.includes('#') ? 'must not contain a fragment'
        : url.pathname === '/' ? 'must have a path (a document such as https://example.com/client.json)'
          // The normal form (lowercase host, no default port, no dot segments) is the only accepted
          // spelling, so one client has one client_id and the document's must equal it character for character.
          : url.href !== clientId ? `must be written in normal form (${url.href})` : undefined;
  if (problem) throw new MetadataDocumentError('invalid_document', `the client_id ${problem}`);
  return url!;
}

function changedFields(previous: ClientMetadata, current: ClientMetadata): string[] {
  const fields: string[] = [];
  if (JSON.stringify(previous.redirect_uris) !== JSON.stringify(current.redirect_uris)) fields.push('redirect_uris');
  if (previous.client_name !== current.client_name) fields.push('client_name');
  return fields;
}

export function createMetadataDocumentResolver(deps: ResolverDeps): MetadataDocumentResolver {
  const { db } = deps;
  // Concurrent requests for the same document share one fetch (per process; the cache is shared).
  const inFlight = new Map<string, Promise<ClientMetadata>>();

  /** The document at `url` as client metadata and how long to keep it; MetadataDocumentError if unusable. */
  async function fetchValidDocument(clientId: string, url: URL): Promise<{ metadata: ClientMetadata; ttlSeconds: number }> {
    const fetched = await fetchMetadataDocument(url, deps.fetch);
    const metadata = clientMetadataFromDocument(clientId, fetched.body);
    try {
      await deps.validateClient(metadata);
    } catch (error) {
      const description = (error as { error_description?: string }).error_description ?? (error as Error).message;
      throw new MetadataDocumentError('invalid_document', `it is not acceptable client metadata: ${description}`);
    }
    return { metadata, ttlSeconds: cacheLifetimeSeconds(fetched.cacheControl, fetched.expires) };
  }

  async function fetchAndStore(clientId: string, url: URL): Promise<ClientMetadata> {
    // A refusal here (the fetch rate limit) is about the asker, not the document: it is not remembered.
    await deps.beforeFetch?.(url);
    let fetched: { metadata: ClientMetadata; ttlSeconds: number };
    try {
      fetched = await fetchValidDocument(clientId, url);
    } catch (error) {
      if (error instanceof MetadataDocumentError) await rememberFailureQuietly(clientId, error);
      throw error;
    }
    const { metadata } = fetched;
    // Also forgets a failure remembered for this client (one statement).
    const saved = await saveFetchedDocument(db, metadata, fetched.ttlSeconds);
    if (saved.changed && saved.previous) {
      const changed = changedFields(saved.previous, metadata);
      await forgetFlagsOfVanishedGrants(db, clientId);
      log.info('client metadata document changed', { clientId, changed, flaggedGrants: saved.flaggedGrants });
      await recordAuditEvent(db, {
        type: 'client.metadata_document_changed', clientId,
        details: {
          changed, flagged_grants: saved.flaggedGrants,
          previous: { client_name: saved.previous.client_name, redirect_uris: saved.previous.redirect_uris },
          current: { client_name: metadata.client_name, redirect_uris: metadata.redirect_uris },
        },
      });
    }
    return metadata;
  }

  // Remembering is an optimisation: if the database cannot take the row, the person still gets the
  // document's error, not a 500 about the cache.
  async function rememberFailureQuietly(clientId: string, error: MetadataDocumentError): Promise<void> {
    try {
      await rememberFailure(db, clientId, error, FAILURE_MEMORY_SECONDS);
    } catch (dbError) {
      log.warn('could not remember a client metadata document failure', { clientId, error: String(dbError) });
    }
  }

  return {
    async resolve(clientId) {
      const url = parseClientIdUrl(clientId);
      // Checked on every use, cached or not: a domain the operator denies stops working at once.
      if (!isDomainAllowed(await loadDomainPolicy(db, deps.domainPolicy), url.hostname)) {
        throw new MetadataDocumentError('domain_not_allowed', `this server does not accept clients from ${url.hostname}`);
      }
      const cached = await findCachedDocument(db, clientId);
      if (cached?.fresh) return cached.metadata;
      // An expired copy is not served when the refetch fails: a client whose document is gone is gone.
      // A failure of the last minute is answered again without a fetch, by every process, stale copy
      // or not (the same answer as the refetch gave, for as long as it is remembered).
      const remembered = await findRememberedFailure(db, clientId);
      if (remembered) throw remembered;
      let pending = inFlight.get(clientId);
      if (!pending) {
        pending = fetchAndStore(clientId, url).finally(() => inFlight.delete(clientId));
        inFlight.set(clientId, pending);
      }
      try {
        return await pending;
      } catch (error) {
        if (error instanceof MetadataDocumentError) {
          log.warn('client metadata document refused', { clientId, code: error.code, reason: error.message, rememberedForSeconds: FAILURE_MEMORY_SECONDS });
        }
        throw error;
      }
    },
  };
}
