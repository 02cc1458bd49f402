// The one input boundary: refuses, before any route, parser or query sees them, paths, query strings,
// client credentials and bodies holding what PostgreSQL cannot store or a recursive parser cannot take.
import * as querystring from 'node:querystring';
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import type { RouteResolver } from './route-resolver.ts';
import { hostileJsonTextReason, hostileStringReason, hostileUrlEncodedReason, isInvalidUtf8 } from '../input/hostile-values.ts';

/**
 * The largest bodies we read: our pages' forms keep their 16 KiB; everything else gets oidc-provider's
 * own 56 KiB (selective_body.js), which it cannot apply to bytes read here.
 */
export const MAX_FORM_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 56 * 1024;
const BODY_TYPES = ['application/x-www-form-urlencoded', 'application/json', '+json'];

/**
 * Registration answers bad metadata with `invalid_client_metadata` (RFC 7591 §3.2.2); every other
 * endpoint with `invalid_request` (RFC 6749 §5.2), or a 400 page for a browser (errors.ts renders it).
 */
function refusal(ctx: Koa.Context, routes: RouteResolver, where: string, reason: string): AppError {
  const registration = routes.providerRouteOf(ctx) === 'registration';
  return new AppError(registration ? 'invalid_client_metadata' : 'invalid_request', `the ${where} ${reason}`);
}

export interface InputBoundaryOptions {
  mountPath: string;
  /** The route each request reaches (src/http/route-resolver.ts): the answer's shape follows the route, not a spelling. */
  routes: RouteResolver;
  /** Whether the request is for one of our form pages (interaction, /account, /admin console). */
  isOurPage: (ctx: Koa.Context) => boolean;
}

export function inputBoundary(options: InputBoundaryOptions): Koa.Middleware {
  return async (ctx, next) => {
    const reason = (where: string, found: string | undefined) => {
      if (found) throw refusal(ctx, options.routes, where, found);
    };
    reason('path', hostileUrlEncodedReason(ctx.path));
    reason('query string', hostileStringReason(ctx.querystring) ?? hostileUrlEncodedReason(ctx.querystring));
    reason('Authorization header', basicCredentialsReason(ctx.get('authorization')));
    if (ctx.request.is(BODY_TYPES)) await checkBody(ctx, reason, bodyLimit(ctx, options));
    await next();
  };
}

/**
 * RFC 6749 §2.3.1: Basic credentials are form-urlencoded, then base64. Bytes that are not UTF-8 are left to
 * client authentication (decoded, they hold only U+FFFD, which is storable: a wrong credential, not a hostile one).
 */
function basicCredentialsReason(header: string): string | undefined {
  const match = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const bytes = Buffer.from(match[1]!, 'base64');
  if (isInvalidUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  return hostileStringReason(text) ?? hostileUrlEncodedReason(text.replace(/:/g, '&'));
}

interface BodyLimit { bytes: number; code: 'payload_too_large' | 'invalid_request' }

/** Over the limit: 413 on our pages and the admin API (as @koa/bodyparser answered), 400 on oidc-provider's (as it does). */
function bodyLimit(ctx: Koa.Context, { mountPath, routes, isOurPage }: InputBoundaryOptions): BodyLimit {
  if (isOurPage(ctx)) return { bytes: MAX_FORM_BYTES, code: 'payload_too_large' };
  const adminApi = routes.resolve(ctx)?.routes.some((route) => route.owner === 'app' && route.template.startsWith(`${mountPath}/admin/api/`));
  return { bytes: MAX_BODY_BYTES, code: adminApi ? 'payload_too_large' : 'invalid_request' };
}

/**
 * Reads the body once, checks it, and hands the same bytes on: to oidc-provider through `req.body` (its
 * selective_body.js reads that when the stream was read upstream; it parses the bytes exactly as it would
 * have) and to our routes as `request.body` / `request.rawBody` (so @koa/bodyparser does not read again).
 */
async function checkBody(ctx: Koa.Context, reason: (where: string, found: string | undefined) => void, limit: BodyLimit): Promise<void> {
  const charset = ctx.request.charset.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') reason('body', 'is not UTF-8 (only UTF-8 bodies are accepted)');
  const bytes = await readBounded(ctx, limit);
  if (isInvalidUtf8(bytes)) reason('body', 'is not UTF-8');
  const text = bytes.toString('utf8');
  let parsed: unknown = {};
  if (ctx.request.is('application/x-www-form-urlencoded')) {
    reason('body', hostileStringReason(text) ?? hostileUrlEncodedReason(text));
    parsed = querystring.parse(text);
  } else if (text.trim() !== '') {
    reason('body', hostileJsonTextReason(text));
    try {
      parsed = JSON.parse(text);
    } catch {
      reason('body', 'is not valid JSON');
    }
  }
  (ctx.req as { body?: unknown }).body = bytes;
  ctx.request.rawBody = text;
  ctx.request.body = parsed;
}

/**
 * The body's bytes, refused past the limit. Read with the stream's own events (an async iterator costs a
 * promise and a generator step per chunk on every request); on refusal the stream is paused, not
 * destroyed, so the 413 or 400 still reaches the client on the same socket.
 */
function readBounded(ctx: Koa.Context, limit: BodyLimit): Promise<Buffer> {
  const tooLarge = () => new AppError(limit.code, `the body is larger than ${limit.bytes} bytes`);
  // The client's fault, not ours: a 400 in the access log and metrics, not a 500 and an error line.
  const closedEarly = () => new AppError('invalid_request', 'the request closed before its body ended');
  if (ctx.request.length !== undefined && ctx.request.length > limit.bytes) return Promise.reject(tooLarge());
  const stream = ctx.req;
  if (stream.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Already torn down (the client went away): no 'end' or 'close' would come to settle the read.
  if (stream.destroyed) return Promise.reject(closedEarly());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      stream.off('data', onData).off('end', onEnd).off('error', onClosedEarly).off('close', onClosedEarly);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit.bytes) {
        chunks.push(chunk);
        return;
      }
      stop();
      stream.pause();
      reject(tooLarge());
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, received));
    };
    // The client went away before the body ended: the request stream reports it as an error ('aborted',
    // ECONNRESET, which would otherwise read as a database outage) or just closes.
    const onClosedEarly = () => {
      stop();
      reject(closedEarly());
    };
    stream.on('data', onData).on('end', onEnd).on('error', onClosedEarly).on('close', onClosedEarly);
  });
}
