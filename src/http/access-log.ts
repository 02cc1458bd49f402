// One access-log line and one metrics observation per request: method, path without the query string
// (queries carry codes and state), route template, status, duration and request id.
import type Koa from 'koa';
import { log } from '../log.ts';
import type { Metrics } from './metrics.ts';
import { routeOf } from '../request/route-name.ts';

// An interaction's uid is also the value of its (signed) interaction cookies, which bind it to one
// browser: logs name the route, not the uid. (oidc-provider resumes an authorization at /auth/<uid>.)
const INTERACTION_UID = /\/(interaction|auth)\/[\w-]{10,}/g;

/** The path as logged: never the query string (codes, state, tokens by mistake), no interaction uid. */
export const loggedPath = (path: string) => path.slice(0, 512).replace(INTERACTION_UID, '/$1/:uid');

export function accessLog(metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route = routeOf(ctx);
      metrics.observeRequest(ctx.method, route, ctx.status, seconds);
      if (log.enabled('info')) {
        log.request({
          method: ctx.method, path: loggedPath(ctx.path), route, status: ctx.status,
          duration_ms: Math.round(seconds * 10_000) / 10, request_id: ctx.state.requestId, ip: ctx.ip,
        });
      }
    }
  };
}
