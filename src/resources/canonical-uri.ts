// One normaliser for resource URIs (MCP authorization §Canonical Server URI, RFC 8707 §2):
// lenient when matching (scheme/host case, a trailing slash), strict in the `aud` we issue.

export class InvalidResourceUriError extends Error {
  override name = 'InvalidResourceUriError';
}

/**
 * Returns the canonical form: absolute http(s) URI, lowercase scheme and host (URL does that),
 * default port dropped, no fragment, no trailing slash. Throws InvalidResourceUriError otherwise.
 */
export function canonicalResourceUri(input: string): string {
  const url = URL.parse(input);
  if (!url) throw new InvalidResourceUriError('resource must be an absolute URI');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidResourceUriError('resource must be an http or https URI');
  }
  if (input.includes('#')) throw new InvalidResourceUriError('resource must not contain a fragment');
  if (url.username || url.password) throw new InvalidResourceUriError('resource must not contain credentials');
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** The canonical form, or undefined when the input is not a usable resource URI. */
export function tryCanonicalResourceUri(input: string): string | undefined {
  try {
    return canonicalResourceUri(input);
  } catch {
    return undefined;
  }
}
