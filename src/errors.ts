// Typed application errors (a code from one table, with its HTTP status) and the one place any error
// becomes a response: OAuth JSON for clients, a 4xx page for people, 503 + Retry-After when the database is out of reach.
import type Koa from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { isRefusedByDatabase } from './db/invalid-input.ts';
import { renderView } from './views.ts';
import { describeThrown, log } from './log.ts';

interface ErrorKind {
  status: number;
  /** The OAuth error code the client sees, when it is not the code itself (the registered codes are few). */
  error?: string;
  /** The heading of the page a browser gets. */
  title?: string;
}

const FORM_REFUSED = 'This form was not accepted';

/**
 * Every application error code with its HTTP status: RFC 6749 §5.2, RFC 6750 §3.1 and RFC 7591 §3.2.2
 * name the OAuth codes; our own codes (the admin API's) are stable strings a caller can switch on.
 */
const ERROR_TABLE = {
  invalid_request: { status: 400 },
  invalid_client_metadata: { status: 400 },
  invalid_grant: { status: 400 },
  invalid_token: { status: 401 },
  // A resource's own credential (its introspection client) missing or wrong, at /resource/tools (issue 14).
  invalid_client: { status: 401 },
  // A sign-in form's refusal: the email and password match no active account (which of them, it never says).
  bad_credentials: { status: 401 },
  // RFC 7592 §2.2: a client not permitted to update its registration gets 403.
  client_update_refused: { status: 403, error: 'invalid_request' },
  cross_site_request: { status: 403, title: FORM_REFUSED },
  invalid_csrf_token: { status: 403, title: FORM_REFUSED },
  // The right password on the console's sign-in form, from an account that is not an administrator.
  not_admin: { status: 403 },
  // A password sign-in for an email domain whose identity provider is "SSO only" (issue 12).
  sso_only: { status: 403 },
  // A federated sign-in refused: an account's email claimed without the right to link it, a disabled
  // provider or account, a forged or replayed callback (the page says which, in words).
  federation_refused: { status: 403, title: 'Sign-in was not completed' },
  // The identity provider could not be reached or answered wrongly (its error, a bad ID token, mix-up).
  federation_failed: { status: 400, title: 'Sign-in was not completed' },
  // Unlinking the account's last way to sign in.
  last_sign_in_method: { status: 409 },
  not_found: { status: 404 },
  user_not_found: { status: 404 },
  client_not_found: { status: 404 },
  resource_not_found: { status: 404 },
  key_not_found: { status: 404 },
  identity_provider_not_found: { status: 404 },
  policy_not_found: { status: 404 },
  tool_not_found: { status: 404 },
  // Approving a tool whose text has poisoned-description findings without acknowledging them (issue 14 §4).
  flags_not_acknowledged: { status: 409 },
  // Approving from a page whose tools changed before the click (issue 14 §3-4: an approval covers what was read).
  catalog_changed: { status: 409 },
  // Tool-call records sent with one resource's credential about another resource (issue 14 §6).
  resource_mismatch: { status: 403 },
  email_taken: { status: 409 },
  cannot_disable_self: { status: 409 },
  resource_exists: { status: 409 },
  identity_provider_exists: { status: 409 },
  // An email domain routes to one identity provider only (migrations/0024).
  domain_claimed: { status: 409 },
  // One policy per (resource, claim, value) (migrations/0027).
  policy_exists: { status: 409 },
  already_retired: { status: 409 },
  signing_key: { status: 409 },
  pending_key: { status: 409 },
  still_verifying: { status: 409 },
  payload_too_large: { status: 413, error: 'invalid_request' },
  // RFC 6749 §4.1.2.1 has no 429 code: temporarily_unavailable, with Retry-After (RFC 9110 §10.2.3).
  rate_limited: { status: 429, error: 'temporarily_unavailable' },
  temporarily_unavailable: { status: 503 },
} satisfies Record<string, ErrorKind>;

export type AppErrorCode = keyof typeof ERROR_TABLE;
export const ERROR_KINDS: Readonly<Record<AppErrorCode, ErrorKind>> = ERROR_TABLE;

export interface AppErrorOptions {
  /** Sent as Retry-After; a 503 without one gets RETRY_AFTER_SECONDS. */
  retryAfterSeconds?: number;
  /** Sent as WWW-Authenticate (RFC 6750 §3). */
  challenge?: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  readonly challenge: string | undefined;

  constructor(readonly code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_KINDS[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.challenge = options.challenge;
  }
}

export const RETRY_AFTER_SECONDS = 5;
const UNAVAILABLE_DESCRIPTION = 'The service is temporarily unavailable. Try again shortly.';
const INVALID_INPUT_DESCRIPTION = 'A value in this request cannot be stored (a NUL or invalid character, or a value out of range).';
const DEFAULT_TITLE = 'Something went wrong';

export interface ErrorResponse {
  status: number;
  error: string;
  description: string;
  title: string;
  retryAfterSeconds?: number;
  challenge?: string;
}

/**
 * A failure whose cause is the database, as the error a client gets: unreachable or too slow (503, so it
 * backs off and retries), or a value it refused to store (bad input, 400; the statement's transaction rolled back).
 */
export function databaseFailure(error: unknown): AppError | undefined {
  if (isDatabaseUnavailable(error)) return new AppError('temporarily_unavailable', UNAVAILABLE_DESCRIPTION);
  // The backstop behind src/http/input-boundary.ts.
  if (isRefusedByDatabase(error)) return new AppError('invalid_request', INVALID_INPUT_DESCRIPTION);
  return undefined;
}

function describeKnown(error: unknown): Omit<ErrorResponse, 'title'> & { title?: string } {
  if (error instanceof AppError) {
    const kind = ERROR_KINDS[error.code];
    return {
      status: kind.status, error: kind.error ?? error.code, description: error.message, title: kind.title,
      retryAfterSeconds: error.retryAfterSeconds, challenge: error.challenge,
    };
  }
  if (error instanceof ZodError) {
    return { status: 400, error: 'invalid_request', description: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  if (error instanceof oidcErrors.SessionNotFound || error instanceof oidcErrors.InvalidRequest) {
    return { status: 400, error: 'invalid_request', description: 'This sign-in request has expired or was not started in this browser. Go back to the application and try again.' };
  }
  if (error instanceof oidcErrors.OIDCProviderError) {
    return { status: error.statusCode, error: error.error, description: error.error_description ?? error.message };
  }
  const fromDatabase = databaseFailure(error);
  if (fromDatabase) return describeKnown(fromDatabase);
  // koa's http-errors (a body parser's 413, a 415): their message is written for the client.
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, error: 'invalid_request', description: (error as Error).message };
  }
  return { status: 500, error: 'server_error', description: 'An unexpected error occurred.' };
}

/** Maps anything thrown to what leaves the server. Unknown errors are 500 and logged, never shown. */
export function describeError(error: unknown): ErrorResponse {
  const described = describeKnown(error);
  const retryAfterSeconds = described.retryAfterSeconds ?? (described.status === 503 ? RETRY_AFTER_SECONDS : undefined);
  return { ...described, title: described.title ?? DEFAULT_TITLE, retryAfterSeconds };
}

function writeStatusAndHeaders(ctx: Koa.Context, described: ErrorResponse): void {
  ctx.status = described.status;
  if (described.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(described.retryAfterSeconds));
  if (described.challenge !== undefined) ctx.set('WWW-Authenticate', described.challenge);
}

/** The OAuth error body (RFC 6749 §5.2): `{ error, error_description }`. */
function writeJson(ctx: Koa.Context, described: ErrorResponse): void {
  ctx.type = 'json';
  ctx.body = { error: described.error, error_description: described.description };
}

/**
 * The answer on oidc-provider's routes when our code answers in front of it (the registration gate, the token
 * endpoint's IP limit) or replaces its answer (a database failure, a refresh token used up in the meantime):
 * always OAuth JSON, never cached (RFC 6749 §5.1), as oidc-provider answers them itself. Synchronous, so it
 * can run in oidc-provider's 'server_error' event, after it set the response.
 */
export function respondWithOAuthError(ctx: Koa.Context, error: unknown): void {
  const described = describeError(error);
  writeStatusAndHeaders(ctx, described);
  ctx.set('Cache-Control', 'no-store');
  writeJson(ctx, described);
}

/**
 * The error boundary for our own routes (oidc-provider answers its own; see respondWithOAuthError):
 * an HTML page for browsers, OAuth JSON otherwise, or always JSON for an API.
 */
export function errorBoundary({ alwaysJson = false }: { alwaysJson?: boolean } = {}): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const described = describeError(error);
      if (described.status >= 500 && described.status !== 503) {
        log.error('unhandled error', { path: ctx.path, requestId: ctx.state.requestId, error: describeThrown(error) });
      }
      writeStatusAndHeaders(ctx, described);
      if (!alwaysJson && ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = await renderView('error', { title: described.title, error: described.error, description: described.description });
      } else {
        writeJson(ctx, described);
      }
    }
  };
}
