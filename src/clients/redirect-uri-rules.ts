// Which redirect URIs a client may register, for self-registration and operators alike (OAuth 2.1
// §2.3.1, RFC 8252 §7.3): https, or http on a loopback address; no fragment, no wildcard.

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHttpUri(uri: string): boolean {
  const url = URL.parse(uri);
  return url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** Why this redirect URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'must be a string';
  const url = URL.parse(uri);
  if (!url) return 'must be an absolute URI';
  if (uri.includes('#')) return 'must not contain a fragment';
  if (uri.includes('*')) return 'must not contain a wildcard';
  if (url.protocol !== 'https:' && !isLoopbackHttpUri(uri)) {
    return 'must use https, or http on a loopback address (127.0.0.1, [::1], localhost) (RFC 8252 §7.3)';
  }
  return undefined;
}

/** A client whose every redirect URI is loopback is a native app: any port on them is allowed. */
export function isNativeLoopbackClient(redirectUris: readonly unknown[]): boolean {
  return redirectUris.length > 0 && redirectUris.every((uri) => typeof uri === 'string' && isLoopbackHttpUri(uri));
}
