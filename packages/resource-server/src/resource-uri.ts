// The one canonical-resource-URI rule (MCP §Canonical Server URI, RFC 8707 §2), shared by this kit and the
// Portcullis server, and where a resource's RFC 9728 metadata lives (well-known suffix before the path, §3.1).

/**
 * Why `input` is not a usable resource URI, or undefined when it is. RFC 8707 §2: an absolute URI
 * without a fragment; it SHOULD NOT have a query, and we refuse one: it would make the path-inserted
 * metadata URL ambiguous (RFC 9728 §3.1), and an audience the server registered with one could never
 * be served by this kit. Only http(s), never with credentials in it.
 */
export function resourceUriProblem(input: string): string | undefined {
  const url = URL.parse(input);
  if (!url) return 'resource must be an absolute URI';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'resource must be an http or https URI';
  // On the input, not on url.hash/url.search: a bare trailing `#` or `?` leaves those empty.
  if (input.includes('#')) return 'resource must not contain a fragment';
  if (input.includes('?')) return 'resource must not contain a query';
  if (url.username || url.password) return 'resource must not contain credentials';
  return undefined;
}

/**
 * The canonical form: lowercase scheme and host (URL does that), default port dropped, no trailing
 * slash. Throws a TypeError naming the problem otherwise: a misconfigured resource must stop the
 * server at start.
 */
export function canonicalResource(input: string): string {
  const problem = resourceUriProblem(input);
  if (problem) throw new TypeError(`${problem} (got ${JSON.stringify(input.slice(0, 200))})`);
  const url = new URL(input);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** The canonical form, or undefined when `input` is not a usable resource URI. */
export function tryCanonicalResource(input: string): string | undefined {
  return resourceUriProblem(input) === undefined ? canonicalResource(input) : undefined;
}

/** The same resource, compared leniently on scheme/host case and a trailing slash. */
export function sameResource(candidate: string, canonical: string): boolean {
  return tryCanonicalResource(candidate) === canonical;
}

/** `https://host/mcp` → `/.well-known/oauth-protected-resource/mcp`; a root resource gets the bare suffix. */
export function protectedResourceMetadataPath(resource: string): string {
  return `/.well-known/oauth-protected-resource${new URL(canonicalResource(resource)).pathname.replace(/\/+$/, '')}`;
}

/** The absolute metadata URL advertised in every challenge's `resource_metadata`. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(canonicalResource(resource));
  return `${url.origin}${protectedResourceMetadataPath(resource)}`;
}
