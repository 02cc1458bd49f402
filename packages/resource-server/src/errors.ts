// The kit's one error type: every refusal carries a stable `code` callers can switch on, the HTTP
// status it maps to, and (for insufficient_scope) the scopes the client should ask for.

/**
 * - `missing_token`: no bearer token was sent; answered 401 with a challenge that has no `error`
 *   attribute (RFC 6750 §3.1: a request without authentication gets no error code).
 * - `invalid_request`: malformed request, e.g. a token in the query string or body (RFC 6750 §2).
 * - `invalid_token`: expired, revoked, malformed, wrong audience/issuer/type, bad signature.
 * - `insufficient_scope`: valid token without the scopes this request needs (403, step-up).
 * - `invalid_dpop_proof`: a DPoP-bound token without a valid DPoP proof for this request (RFC 9449 §7.1):
 *   missing, wrong method or URL, stale, replayed, for another token or signed by another key.
 * - `temporarily_unavailable`: the authorization server could not be reached (metadata, JWKS or
 *   introspection); answered 503 so clients retry instead of re-authorizing against a server that is down.
 */
export type ResourceServerErrorCode =
  | 'missing_token'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'temporarily_unavailable';

const STATUS: Record<ResourceServerErrorCode, 400 | 401 | 403 | 503> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  temporarily_unavailable: 503,
};

/** Every refusal the kit makes: `code` to switch on, `status` to answer with, `scopes` for step-up. */
export class ResourceServerError extends Error {
  override name = 'ResourceServerError';
  readonly code: ResourceServerErrorCode;
  readonly status: 400 | 401 | 403 | 503;
  /** For insufficient_scope: the complete scope set the client should request (sent as `scope`). */
  readonly scopes: readonly string[] | undefined;
  /** True when the answer should be a `WWW-Authenticate: DPoP` challenge (RFC 9449 §7.1), e.g. a bound token sent as Bearer. */
  readonly dpop: boolean;

  constructor(
    code: ResourceServerErrorCode,
    message: string,
    options: { scopes?: readonly string[]; cause?: unknown; dpop?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS[code];
    this.scopes = options.scopes;
    this.dpop = options.dpop ?? code === 'invalid_dpop_proof';
  }
}

/** True for a ResourceServerError (a refusal to answer with `challenge`), false for anything else. */
export const isResourceServerError = (value: unknown): value is ResourceServerError => value instanceof ResourceServerError;

export const invalidToken = (message: string, cause?: unknown) => new ResourceServerError('invalid_token', message, { cause });

export const unavailable = (message: string, cause?: unknown) =>
  new ResourceServerError('temporarily_unavailable', message, { cause });

/**
 * Why `exchangeToken()` got no token (RFC 8693 §2.2.2, RFC 6749 §5.2: the authorization server's own
 * `error`, or one of ours):
 * - `invalid_grant`: the token given is not valid, not for this server, or its grant was revoked (or the
 *   person withdrew this downstream service): do not retry with it.
 * - `invalid_target`: the operator allows no exchange from this server to that resource.
 * - `invalid_scope`: a scope beyond what the chain allows.
 * - `unauthorized_client`, `invalid_client`: this server's credentials are wrong or not an MCP server's.
 * - `invalid_request`: a parameter the authorization server refused.
 * - `temporarily_unavailable`: the authorization server could not be reached or answered 5xx: retry later.
 * - `invalid_response`: it answered 200 with something that is not a token response.
 */
export type TokenExchangeErrorCode =
  | 'invalid_grant' | 'invalid_target' | 'invalid_scope' | 'unauthorized_client' | 'invalid_client'
  | 'invalid_request' | 'temporarily_unavailable' | 'invalid_response';

const EXCHANGE_CODES = new Set<string>(['invalid_grant', 'invalid_target', 'invalid_scope', 'unauthorized_client', 'invalid_client', 'invalid_request', 'temporarily_unavailable']);

/** A refused or failed token exchange: `code` to switch on, `description` from the authorization server. */
export class TokenExchangeError extends Error {
  override name = 'TokenExchangeError';
  readonly code: TokenExchangeErrorCode;
  /** The authorization server's HTTP status, when it answered. */
  readonly status: number | undefined;

  constructor(code: TokenExchangeErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }

  /** From an OAuth error body; an unknown `error` value becomes invalid_request (it was still a refusal). */
  static fromOAuthError(error: unknown, description: unknown, status: number): TokenExchangeError {
    const code = typeof error === 'string' && EXCHANGE_CODES.has(error) ? error as TokenExchangeErrorCode : 'invalid_request';
    return new TokenExchangeError(code, typeof description === 'string' ? description : `token exchange refused: ${String(error)}`, { status });
  }
}
