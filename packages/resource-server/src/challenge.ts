// Turns a refusal into the HTTP answer the MCP spec asks for: status, `WWW-Authenticate: Bearer …`
// (RFC 6750 §3, resource_metadata from RFC 9728 §5.1) and a small OAuth error body.
import { ResourceServerError } from './errors.ts';

/** What a challenge advertises: where the metadata is, and which scopes to ask for. */
export interface ChallengeOptions {
  /** Absolute URL of this resource's RFC 9728 metadata document. */
  resourceMetadataUrl: string;
  /** Scopes to advertise on a 401 (MCP §Protected Resource Metadata Discovery: SHOULD carry `scope`). */
  scopes?: readonly string[];
}

/** An HTTP answer to send as it is: status, `WWW-Authenticate` and other headers, and the JSON body. */
export interface ChallengeResponse {
  status: 400 | 401 | 403 | 500 | 503;
  headers: Record<string, string>;
  /** JSON body; undefined for the plain 401 sent when no token was presented. */
  body: { error: string; error_description: string } | undefined;
}

/**
 * A quoted-string (RFC 9110 §5.6.4) that is also a valid header value: `"` and `\` escaped, control
 * and non-ASCII characters dropped (node refuses to send those, and they have no place in a challenge).
 */
export function quoteHeaderValue(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '');
  return `"${printable.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/** `Bearer k="v", ...` from the parameters that are defined, each value quoted by `quoteHeaderValue`. */
export function formatBearerChallenge(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quoteHeaderValue(value)}`);
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

/** The answer for a refusal. Unknown errors (bugs) become a 500 without details, never a pass. */
export function bearerChallenge(error: unknown, options: ChallengeOptions): ChallengeResponse {
  if (!(error instanceof ResourceServerError)) {
    return {
      status: 500,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: { error: 'server_error', error_description: 'token verification failed unexpectedly' },
    };
  }
  const json = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  if (error.code === 'temporarily_unavailable') {
    return { status: 503, headers: { ...json, 'Retry-After': '5' }, body: { error: error.code, error_description: error.message } };
  }
  const scopes = error.code === 'insufficient_scope' ? error.scopes : options.scopes;
  const scope = scopes && scopes.length > 0 ? scopes.join(' ') : undefined;
  const missing = error.code === 'missing_token';
  const challenge = formatBearerChallenge({
    error: missing ? undefined : error.code,
    error_description: missing ? undefined : error.message,
    resource_metadata: options.resourceMetadataUrl,
    scope,
  });
  return {
    status: error.status as 400 | 401 | 403,
    headers: missing ? { 'Cache-Control': 'no-store', 'WWW-Authenticate': challenge } : { ...json, 'WWW-Authenticate': challenge },
    body: missing ? undefined : { error: error.code, error_description: error.message },
  };
}

/**
 * The answer for a refusal of a DPoP request (RFC 9449 §7.1): `WWW-Authenticate: DPoP` with `algs`
 * (the proof algorithms accepted), the error and, like the bearer challenge, `resource_metadata`.
 */
export function dpopChallenge(error: unknown, options: ChallengeOptions & { algorithms: readonly string[] }): ChallengeResponse {
  const answer = bearerChallenge(error, options);
  if (answer.status === 500 || answer.status === 503) return answer;
  const code = error instanceof ResourceServerError && error.code !== 'missing_token' ? error : undefined;
  const params = formatBearerChallenge({
    error: code?.code,
    error_description: code?.message,
    algs: options.algorithms.join(' '),
    resource_metadata: options.resourceMetadataUrl,
  }).replace(/^Bearer/, 'DPoP');
  return { ...answer, headers: { ...answer.headers, 'WWW-Authenticate': params } };
}
