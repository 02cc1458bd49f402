// Headers on every response: no framing (consent must not be clickjacked), no inline script or style
// (oidc-provider adds the hash of its one form_post auto-submit script to script-src itself),
// no referrer (redirects carry codes in the query), no MIME sniffing; a request id for logs and audit.
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';

const policyWithFormActions = (formAction: string) => [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", `form-action ${formAction}`,
  "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');
const FORM_ACTION = "'self' http: https:";
const contentSecurityPolicy = policyWithFormActions(FORM_ACTION);

/**
 * Browsers apply `form-action` to the redirects that follow a form post too: the sign-in and consent
 * forms end in a redirect to the client's redirect URI, which for a native app may use its private-use
 * scheme (RFC 8252 §7.1, `com.example.app:/callback`). Pages of one authorization allow that one scheme.
 */
export function allowFormRedirectTo(ctx: Koa.Context, redirectUri: unknown): void {
  const scheme = typeof redirectUri === 'string' ? URL.parse(redirectUri)?.protocol : undefined;
  if (!scheme || scheme === 'http:' || scheme === 'https:' || !/^[a-z][a-z0-9.+-]*:$/.test(scheme)) return;
  ctx.set('Content-Security-Policy', policyWithFormActions(`${FORM_ACTION} ${scheme}`));
}

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
