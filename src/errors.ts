// Typed application errors and the one place any error becomes a response: OAuth JSON for API
// callers, a 4xx page for people, 503 + Retry-After when the database is out of reach, never a 500 for bad input.
import type Koa from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { isRefusedByDatabase } from './db/invalid-input.ts';
import { renderView } from './views.ts';
import { describeThrown, log } from './log.ts';

export class AppError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AppError';
  }
}
export const RETRY_AFTER_SECONDS = 5;
const UNAVAILABLE_DESCRIPTION = 'The service is temporarily unavailable. Try again shortly.';

/** 503 + Retry-After as OAuth JSON, for responses already shaped by oidc-provider. */
export function respondServiceUnavailable(ctx: Koa.Context): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  ctx.type = 'json';
  ctx.body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE_DESCRIPTION };
}

const INVALID_INPUT_DESCRIPTION = 'A value in this request cannot be stored (a NUL or invalid character, or a value out of range).';

/**
 * oidc-provider rendered a server_error whose cause is a value the database refused: 400 invalid_request
 * as OAuth JSON instead (called from its 'server_error' event, after it set the response).
 */
export function respondRefusedInput(ctx: Koa.Context): void {
  ctx.status = 400;
  ctx.type = 'json';
  ctx.body = { error: 'invalid_request', error_description: INVALID_INPUT_DESCRIPTION };
}

interface ErrorResponse { status: number; error: string; description: string }

/** Maps anything thrown to what leaves the server. Unknown errors are 500 and logged, never shown. */
export function describeError(error: unknown): ErrorResponse {
  if (error instanceof AppError) return { status: error.status, error: error.code, description: error.message };
  if (error instanceof ZodError) {
    return { status: 400, error: 'invalid_request', description: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  if (error instanceof oidcErrors.SessionNotFound || error instanceof oidcErrors.InvalidRequest) {
    return { status: 400, error: 'invalid_request', description: 'This sign-in request has expired or was not started in this browser. Go back to the application and try again.' };
  }
  if (error instanceof oidcErrors.OIDCProviderError) {
    return { status: error.statusCode, error: error.error, description: error.error_description ?? error.message };
  }
  if (isDatabaseUnavailable(error)) {
    return { status: 503, error: 'temporarily_unavailable', description: UNAVAILABLE_DESCRIPTION };
  }
  // The backstop behind src/http/input-boundary.ts: the statement failed, so its transaction rolled back.
  if (isRefusedByDatabase(error)) return { status: 400, error: 'invalid_request', description: INVALID_INPUT_DESCRIPTION };
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, error: 'invalid_request', description: (error as Error).message };
  }
  return { status: 500, error: 'server_error', description: 'An unexpected error occurred.' };
}

/**
 * The error boundary for our own routes (oidc-provider handles its own; see app.ts for its 503s):
 * an HTML page for browsers, `{ error, error_description }` JSON otherwise, or always JSON for an API.
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
      ctx.status = described.status;
      if (described.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (!alwaysJson && ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = await renderView('error', { title: 'Something went wrong', error: described.error, description: described.description });
      } else {
        ctx.type = 'json';
        ctx.body = { error: described.error, error_description: described.description };
      }
    }
  };
}
