// The server span of each HTTP request: method, the route's name (never the raw path, which carries
// interaction uids), status and request id, continuing the caller's trace from a W3C traceparent header.
import { context, createContextKey, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type Koa from 'koa';
import { routeOf } from '../request/route-name.ts';
import { errorType } from './error-type.ts';

/** Where the request id travels in the span context, for requestIdOnEverySpan (otel-sdk.ts). */
export const REQUEST_ID = createContextKey('portcullis.request_id');
/** The attribute named like the logs' `request_id` field and the X-Request-Id response header. */
export const REQUEST_ID_ATTRIBUTE = 'portcullis.request_id';

// HTTP semantic conventions: a method outside the known set is reported as _OTHER (the value is the client's).
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export function requestSpans(tracer: Tracer): Koa.Middleware {
  return async (ctx, next) => {
    // traceparent/tracestate only (W3CTraceContextPropagator); no traceparent starts a new trace.
    const caller = propagation.extract(ROOT_CONTEXT, ctx.headers);
    const method = KNOWN_METHODS.has(ctx.method) ? ctx.method : '_OTHER';
    const requestId = typeof ctx.state.requestId === 'string' ? ctx.state.requestId : undefined;
    const span = tracer.startSpan(method, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'url.scheme': ctx.protocol, ...(requestId ? { [REQUEST_ID_ATTRIBUTE]: requestId } : {}) },
    }, caller);
    let status: number | undefined;
    try {
      await context.with(trace.setSpan(caller, span).setValue(REQUEST_ID, requestId), next);
    } catch (error) {
      // Past errorBoundary only by a bug: koa answers it with the error's status, or 500.
      const thrownStatus = (error as { status?: unknown })?.status;
      status = typeof thrownStatus === 'number' ? thrownStatus : 500;
      span.setAttribute('error.type', errorType(error));
      throw error;
    } finally {
      status ??= ctx.status;
      const route = routeOf(ctx);
      span.updateName(`${method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      // A server span fails on 5xx only; a 4xx is the client's mistake (HTTP semantic conventions).
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', String(status));
      }
      span.end();
    }
  };
}
