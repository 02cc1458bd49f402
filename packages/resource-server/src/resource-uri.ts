// The resource identifier this server protects, in canonical form (MCP §Canonical Server URI, RFC 8707),
// and where its RFC 9728 metadata lives (the well-known suffix inserted between host and path, §3.1).

/**
 * Canonical form: absolute http(s) URI, lowercase scheme and host, default port dropped, no trailing
 * slash. Throws a TypeError for anything else: a misconfigured resource must stop the server at start.
 * A query or fragment is refused too: it would make the path-inserted metadata URL ambiguous.
 */
export function canonicalResource(input: string): string {
  const url = URL.parse(input);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError(`resource must be an absolute http(s) URI, got ${JSON.stringify(input)}`);
  }
  if (input.includes('#') || input.includes('?')) throw new TypeError('resource must not have a query or fragment');
  if (url.username || url.password) throw new TypeError('resource must not contain credentials');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** The same resource, compared leniently on scheme/host case and a trailing slash; undefined if unusable. */
export function sameResource(candidate: string, canonical: string): boolean {
  try {
    return canonicalResource(candidate) === canonical;
  } catch {
    return false;
  }
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
