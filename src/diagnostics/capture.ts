// What a failed authorization or token request asked, as it may be stored and shown: an allow-list of
// parameters, each capped and made storable. Never a code, token, verifier, secret or assertion: only whether one came.
import { createHash } from 'node:crypto';

export type FailureEndpoint = 'authorization' | 'token';

/** The recorded request, in its wire (and jsonb) form. Absent parameters are left out. */
export interface RequestFacts {
  redirect_uri?: string;
  resource?: string[];
  scope?: string;
  response_type?: string;
  grant_type?: string;
  /** At /auth: whether a code_challenge came, and the method named (absent means plain, RFC 7636 §4.3). */
  code_challenge?: boolean;
  code_challenge_method?: string;
  /** At /token with a code: whether a code_verifier came (its value is never kept). */
  code_verifier?: boolean;
  /** How the client authenticated at /token, from which credential fields were present. */
  client_auth?: 'client_secret_basic' | 'client_secret_post' | 'client_assertion' | 'none';
}

export interface FailedRequest {
  clientId: string;
  endpoint: FailureEndpoint;
  error: string;
  errorDescription: string | undefined;
  /** oidc-provider's internal reason (e.g. 'refresh token already used'), never sent to the client. */
  errorDetail: string | undefined;
  request: RequestFacts;
}

/** Long enough for any real redirect URI, resource or scope list; short enough that a row stays small. */
export const MAX_VALUE_LENGTH = 512;
const MAX_RESOURCES = 4;
// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one (a cut may make one).
const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A value as it may be stored: capped (marked with … when cut), without NUL, and well-formed UTF-16, so
 * PostgreSQL's text and jsonb accept it (they refuse NUL and, in jsonb, unpaired surrogates).
 */
export function storable(value: string, max = MAX_VALUE_LENGTH): string {
  const capped = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  return capped.replace(NUL_OR_LONE_SURROGATE, '\uFFFD');
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? storable(value) : undefined);

/** The parameters oidc-provider recognised (ctx.oidc.params) and whether a Basic Authorization header came. */
export function captureRequest(endpoint: FailureEndpoint, params: Record<string, unknown>, basicAuth: boolean): RequestFacts {
  const resources = [params.resource ?? []].flat().filter((r): r is string => typeof r === 'string');
  const facts: RequestFacts = {
    redirect_uri: text(params.redirect_uri),
    resource: resources.length > 0 ? resources.slice(0, MAX_RESOURCES).map((r) => storable(r)) : undefined,
    scope: text(params.scope),
  };
  if (endpoint === 'authorization') {
    facts.response_type = text(params.response_type);
    facts.code_challenge = typeof params.code_challenge === 'string' && params.code_challenge !== '';
    facts.code_challenge_method = text(params.code_challenge_method);
  } else {
    facts.grant_type = text(params.grant_type);
    if (params.grant_type === 'authorization_code') facts.code_verifier = typeof params.code_verifier === 'string' && params.code_verifier !== '';
    facts.client_auth = basicAuth ? 'client_secret_basic'
      : params.client_assertion !== undefined ? 'client_assertion'
        : params.client_secret !== undefined ? 'client_secret_post' : 'none';
  }
  return Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined)) as RequestFacts;
}

/** The error as recorded: the same caps as the request (a description may quote what the client sent). */
export function captureError(error: { error?: unknown; error_description?: unknown; error_detail?: unknown }) {
  return {
    error: text(error.error) ?? 'server_error',
    errorDescription: text(error.error_description),
    errorDetail: text(error.error_detail),
  };
}

/** Failures that are the same request failing the same way share one row (store.ts counts them). */
export function fingerprintOf(failure: FailedRequest): string {
  const { endpoint, error, errorDescription, errorDetail, request } = failure;
  return createHash('sha256').update(JSON.stringify([endpoint, error, errorDescription, errorDetail, request])).digest('base64url');
}
