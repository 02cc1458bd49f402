// Headers on every response: no framing (consent must not be clickjacked), no inline script or style
// (oidc-provider adds the hash of its one form_post auto-submit script to script-src itself),
// no referrer (redirects carry codes in the query), no MIME sniffing; a request id for logs and audit.
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';

const contentSecurityPolicy = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "form-action 'self' http: https:",
  "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

export function securityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    ctx.state.requestId = randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    ctx.set('Content-Security-Policy', contentSecurityPolicy);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  };
}
