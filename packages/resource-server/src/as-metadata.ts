// Discovers the authorization server's metadata (RFC 8414, falling back to OpenID discovery) once per
// process; its `issuer` must equal the configured one exactly (RFC 8414 §3.3), or the document is unused.
import { unavailable } from './errors.ts';

export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  token_endpoint?: string;
}

// After a failed discovery, requests within this window get the same 503 instead of a new fetch each:
// an authorization server that is down is not also flooded by every resource server's traffic.
const FAILURE_BACKOFF_MS = 5000;

/** Where to look, in the order MCP clients use (MCP §Authorization Server Metadata Discovery). */
export function metadataCandidates(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return [...new Set([
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ])];
}

async function fetchCandidate(fetchImpl: typeof fetch, url: string, issuer: string, timeoutMs: number): Promise<AuthorizationServerMetadata | string> {
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    return `${url}: ${(error as Error).message}`;
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return `${url}: HTTP ${response.status}`;
  }
  const document: unknown = await response.json().catch(() => undefined);
  if (typeof document !== 'object' || document === null) return `${url}: not a JSON object`;
  const metadata = document as Record<string, unknown>;
  if (metadata.issuer !== issuer) return `${url}: issuer ${JSON.stringify(metadata.issuer)} is not ${issuer}`;
  return {
    issuer,
    ...(typeof metadata.jwks_uri === 'string' && { jwks_uri: metadata.jwks_uri }),
    ...(typeof metadata.introspection_endpoint === 'string' && { introspection_endpoint: metadata.introspection_endpoint }),
    ...(typeof metadata.token_endpoint === 'string' && { token_endpoint: metadata.token_endpoint }),
  };
}

/** A memoised discovery: one fetch sequence shared by concurrent callers; failures back off briefly. */
export function createMetadataDiscovery(issuer: string, timeoutMs: number, fetchImpl: typeof fetch): () => Promise<AuthorizationServerMetadata> {
  let found: Promise<AuthorizationServerMetadata> | undefined;
  const discover = async () => {
    const problems: string[] = [];
    for (const candidate of metadataCandidates(issuer)) {
      const result = await fetchCandidate(fetchImpl, candidate, issuer, timeoutMs);
      if (typeof result !== 'string') return result;
      problems.push(result);
    }
    throw unavailable(`authorization server metadata could not be loaded (${problems.join('; ')})`);
  };
  return () => {
    if (!found) {
      found = discover();
      found.catch(() => {
        setTimeout(() => { found = undefined; }, FAILURE_BACKOFF_MS).unref();
      });
    }
    return found;
  };
}
