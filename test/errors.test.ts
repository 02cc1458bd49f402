// The one error exit (src/errors.ts): every application code has its status in the table, describeError
// maps each, and the two writers say the same thing as JSON, a page, or a never-cached OAuth answer.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import request from 'supertest';
import { errors as oidcErrors } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import {
  AppError, databaseFailure, describeError, ERROR_KINDS, errorBoundary, respondWithOAuthError, type AppErrorCode,
} from '../src/errors.ts';

const codes = Object.keys(ERROR_KINDS) as AppErrorCode[];

function appThrowing(error: unknown, options?: { alwaysJson?: boolean }) {
  const app = new Koa();
  app.use(errorBoundary(options));
  app.use(() => { throw error; });
  return app.callback();
}

describe('application error codes', () => {
  it('gives every code an HTTP error status and a wire code', () => {
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes) {
      const { status, error } = ERROR_KINDS[code];
      expect(Number.isInteger(status) && status >= 400 && status <= 599, code).toBe(true);
      expect(error ?? code, code).toMatch(/^[a-z_]+$/);
    }
  });

  it('describes an AppError of each code with the status and wire code of its row', () => {
    for (const code of codes) {
      const described = describeError(new AppError(code, `because ${code}`));
      expect(described, code).toMatchObject({ status: ERROR_KINDS[code].status, error: ERROR_KINDS[code].error ?? code, description: `because ${code}` });
      expect(new AppError(code, 'x').status, code).toBe(ERROR_KINDS[code].status);
    }
  });

  it('keeps the OAuth codes that clients see (RFC 6749 §5.2) for our own refusals', () => {
    expect(describeError(new AppError('rate_limited', 'slow down', { retryAfterSeconds: 7 }))).toMatchObject({ status: 429, error: 'temporarily_unavailable', retryAfterSeconds: 7 });
    expect(describeError(new AppError('payload_too_large', 'big'))).toMatchObject({ status: 413, error: 'invalid_request' });
    expect(describeError(new AppError('client_update_refused', 'no'))).toMatchObject({ status: 403, error: 'invalid_request' });
    // A 503 always tells the client when to come back.
    expect(describeError(new AppError('temporarily_unavailable', 'later')).retryAfterSeconds).toBe(5);
  });

  it('maps what it did not throw itself: oidc-provider errors, database failures, and anything else as a bare 500', () => {
    expect(describeError(new oidcErrors.InvalidClientAuth('detail'))).toMatchObject({ status: 401, error: 'invalid_client', description: 'client authentication failed' });
    const refused = Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    expect(databaseFailure(refused)?.code).toBe('invalid_request');
    expect(describeError(new Error('wrapped', { cause: Object.assign(new Error('down'), { code: 'ECONNREFUSED' }) })))
      .toMatchObject({ status: 503, error: 'temporarily_unavailable', retryAfterSeconds: 5 });
    expect(databaseFailure(new Error('a bug'))).toBeUndefined();
    expect(describeError(new Error('secret detail'))).toMatchObject({ status: 500, error: 'server_error', description: 'An unexpected error occurred.' });
  });
});

describe('the error writers', () => {
  it('answer a thrown AppError as JSON with its headers, or as a page with its title for a browser', async () => {
    const error = new AppError('invalid_token', 'bring a token', { challenge: 'Bearer realm="x"' });
    const json = await request(appThrowing(error)).get('/').accept('json');
    expect(json.status).toBe(401);
    expect(json.headers['www-authenticate']).toBe('Bearer realm="x"');
    expect(json.body).toEqual({ error: 'invalid_token', error_description: 'bring a token' });

    const page = await request(appThrowing(new AppError('cross_site_request', 'from elsewhere'))).get('/').accept('html');
    expect(page.status).toBe(403);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('<h1>This form was not accepted</h1>');
    expect(page.text).toContain('cross_site_request');

    const api = await request(appThrowing(error, { alwaysJson: true })).get('/').accept('html');
    expect(api.type).toBe('application/json');
    expect(api.headers['cache-control']).toBeUndefined();
  });

  it('answers on oidc-provider routes as never-cached OAuth JSON, whatever the Accept header', async () => {
    const app = new Koa();
    app.use((ctx) => respondWithOAuthError(ctx, new AppError('rate_limited', 'too many', { retryAfterSeconds: 9 })));
    const response = await request(app.callback()).post('/token').accept('html');
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('9');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({ error: 'temporarily_unavailable', error_description: 'too many' });
  });
});

describe('src/', () => {
  // The rule behind the table: an error response is built in errors.ts only; everywhere else throws.
  it('builds no error body and calls no ctx.throw outside src/errors.ts', () => {
    const root = new URL('../src/', import.meta.url).pathname;
    const offenders: string[] = [];
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file === 'errors.ts') continue;
      const text = readFileSync(join(root, file), 'utf8');
      if (/ctx\.body\s*=\s*\{\s*error\b/.test(text) || /ctx\.throw\(/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
