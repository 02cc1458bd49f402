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
  /** The HTTP method, checked against a DPoP proof's `htm` (RFC 9449 §4.3). */
  method?: string | undefined;
  /** The `DPoP` header value(s): the proof a DPoP-bound token must come with. */
  dpop?: string | readonly string[] | undefined;
}

/** The access token and the scheme it came with: `Bearer`, or `DPoP` for a sender-constrained token (RFC 9449 §7.1). */
export interface PresentedToken {
  scheme: 'bearer' | 'dpop';
  token: string;
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

/** The bearer token, or a ResourceServerError (missing_token, invalid_request). A DPoP-scheme token is not a bearer token. */
export function extractBearerToken(request: BearerRequest): string {
  const presented = extractAccessToken(request);
  if (presented.scheme !== 'bearer') throw new ResourceServerError('missing_token', 'no bearer token');
  return presented.token;
}

/** The token from `Authorization: Bearer …` or `Authorization: DPoP …`, or a ResourceServerError (missing_token, invalid_request). */
export function extractAccessToken(request: BearerRequest): PresentedToken {
  // A token in the URL ends up in logs and Referer headers; refuse it even beside a valid header.
  if (hasQueryToken(request.url)) refuseWith('access tokens are accepted only in the Authorization header, not the query string');
  if (hasBodyToken(request.body)) refuseWith('access tokens are accepted only in the Authorization header, not the body');

  const header = request.authorization;
  if (Array.isArray(header)) {
    if (header.length > 1) refuseWith('more than one Authorization header');
    return extractAccessToken({ authorization: header[0] });
  }
  if (typeof header !== 'string' || header.trim() === '') {
    throw new ResourceServerError('missing_token', 'no access token');
  }
  const match = /^([A-Za-z]+)(?: +(.*))?$/.exec(header.trim());
  // Another scheme (Basic…) presents no access token: a plain challenge tells the client what to use.
  const scheme = match?.[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') throw new ResourceServerError('missing_token', 'no bearer token');
  const token = match![2];
  // RFC 9449 §7.1: the DPoP scheme carries the token as the same token68 syntax as Bearer.
  if (token === undefined || token === '') refuseWith(`the ${match![1]} authorization header has no token`);
  if (!B64TOKEN.test(token)) refuseWith('the access token is malformed');
  return { scheme, token };
}

function refuseWith(message: string): never {
  throw new ResourceServerError('invalid_request', message);
}
