// Finds the access token in a request: only the `Authorization: Bearer` header counts (MCP §Token
// Requirements: tokens MUST NOT be sent in the query string; RFC 6750 §2.1). Everything else is refused.
import { ResourceServerError } from './errors.ts';

/** The parts of an HTTP request the bearer-token extraction reads (framework-free). */
export interface BearerRequest {
  /** The Authorization header value(s) as the framework gives them. */
  authorization?: string | readonly string[] | undefined;
  /** The request target (path and query), only to refuse `access_token` in the query string. */
  url?: string | undefined;
  /** A body a body parser already produced, only to refuse `access_token` in the body. */
  body?: unknown;
}

// RFC 6750 §2.1 b64token.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function hasQueryToken(url: string | undefined): boolean {
  if (!url) return false;
  const query = url.indexOf('?');
  return query !== -1 && new URLSearchParams(url.slice(query + 1)).has('access_token');
}

function hasBodyToken(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, 'access_token');
}

/** The bearer token, or a ResourceServerError (missing_token, invalid_request). */
export function extractBearerToken(request: BearerRequest): string {
  // A token in the URL ends up in logs and Referer headers; refuse it even beside a valid header.
  if (hasQueryToken(request.url)) refuseWith('access tokens are accepted only in the Authorization header, not the query string');
  if (hasBodyToken(request.body)) refuseWith('access tokens are accepted only in the Authorization header, not the body');

  const header = request.authorization;
  if (Array.isArray(header)) {
    if (header.length > 1) refuseWith('more than one Authorization header');
    return extractBearerToken({ authorization: header[0] });
  }
  if (typeof header !== 'string' || header.trim() === '') {
    throw new ResourceServerError('missing_token', 'no access token');
  }
  const match = /^([A-Za-z]+)(?: +(.*))?$/.exec(header.trim());
  // Another scheme (Basic, DPoP…) presents no bearer token: a plain challenge tells the client what to use.
  if (!match || match[1]!.toLowerCase() !== 'bearer') throw new ResourceServerError('missing_token', 'no bearer token');
  const token = match[2];
  if (token === undefined || token === '') refuseWith('the Bearer authorization header has no token');
  if (!B64TOKEN.test(token)) refuseWith('the bearer token is malformed');
  return token;
}

function refuseWith(message: string): never {
  throw new ResourceServerError('invalid_request', message);
}
