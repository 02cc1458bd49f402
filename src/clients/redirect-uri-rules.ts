// Which redirect URIs a client may register, for self-registration and operators alike (OAuth 2.1
// §2.3.1, RFC 8252 §7): https; http on a loopback address or a private-use scheme for native apps only.

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
// Schemes a browser runs or reads locally instead of handing to an app: never a redirect target.
const NEVER_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:', 'ws:', 'wss:']);
// RFC 8252 §7.1: a private-use scheme is a reversed domain name the app's publisher controls
// (`com.example.app`), so it names at least two labels; `myapp:` is anyone's to claim.
const REVERSED_DOMAIN_SCHEME = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+:$/;

export type ApplicationType = 'web' | 'native';
export type RedirectUriKind = 'https' | 'loopback_http' | 'private_use';

export function isLoopbackHttpUri(uri: string): boolean {
  const url = URL.parse(uri);
  return url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

const ALLOWED_FORMS = 'must use https, or http on a loopback address (127.0.0.1, [::1], localhost) (RFC 8252 §7.3), '
  + 'or a private-use scheme in reversed-domain form such as com.example.app:/callback (RFC 8252 §7.1)';

/** What kind of redirect URI this is, or why no client may ever register it. */
export function classifyRedirectUri(uri: unknown): { kind: RedirectUriKind } | { problem: string } {
  if (typeof uri !== 'string') return { problem: 'must be a string' };
  const url = URL.parse(uri);
  if (!url) return { problem: 'must be an absolute URI' };
  if (uri.includes('#')) return { problem: 'must not contain a fragment' };
  if (uri.includes('*')) return { problem: 'must not contain a wildcard' };
  if (url.protocol === 'https:') return { kind: 'https' };
  if (isLoopbackHttpUri(uri)) return { kind: 'loopback_http' };
  if (NEVER_SCHEMES.has(url.protocol) || url.protocol === 'http:') return { problem: ALLOWED_FORMS };
  return REVERSED_DOMAIN_SCHEME.test(url.protocol) ? { kind: 'private_use' } : { problem: ALLOWED_FORMS };
}

/**
 * Why this redirect URI cannot be registered, or undefined when it can. With an application type, the
 * URI must suit it: web clients use https only; native apps also loopback http and private-use schemes.
 */
export function redirectUriProblem(uri: unknown, applicationType?: ApplicationType): string | undefined {
  const classified = classifyRedirectUri(uri);
  if ('problem' in classified) return classified.problem;
  if (applicationType === 'web' && classified.kind !== 'https') {
    return 'must use https for a web client; loopback http and private-use schemes are for application_type "native" (RFC 8252)';
  }
  return undefined;
}

/**
 * The application type of a client that names none: native when any redirect URI is loopback http or a
 * private-use scheme (only an app on the person's device can receive those), web otherwise.
 */
export function inferApplicationType(redirectUris: readonly unknown[]): ApplicationType {
  return redirectUris.some((uri) => {
    const classified = classifyRedirectUri(uri);
    return 'kind' in classified && classified.kind !== 'https';
  }) ? 'native' : 'web';
}

/** A client whose every redirect URI is loopback is a native app: any port on them is allowed. */
export function isNativeLoopbackClient(redirectUris: readonly unknown[]): boolean {
  return redirectUris.length > 0 && redirectUris.every((uri) => typeof uri === 'string' && isLoopbackHttpUri(uri));
}
