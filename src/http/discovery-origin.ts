// Discovery documents name endpoints under ISSUER only: no request header (Host, X-Forwarded-Host,
// X-Forwarded-Proto, an absolute request target) can change them, and caches may keep them a while.
import type Koa from 'koa';

// RFC 8414 §3 and OIDC Discovery §4; oidc-provider's router also matches other cases and a trailing slash.
const DISCOVERY_SUFFIXES = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];
const isDiscoveryPath = (path: string) => DISCOVERY_SUFFIXES.some((suffix) => path.toLowerCase().includes(suffix));

/** Clients and shared caches may reuse the document for five minutes (RFC 9111 §5.2.2). */
export const DISCOVERY_CACHE_CONTROL = 'public, max-age=300';

/**
 * oidc-provider builds each endpoint URL from the request (ctx.oidc.urlFor resolves against ctx.href),
 * so a forged Host would put an attacker's origin in the metadata every client trusts (RFC 8414 §3.3).
 * For discovery requests the request's origin is pinned to the issuer's before oidc-provider runs.
 */
export function discoveryFromIssuer(issuer: string): Koa.Middleware {
  const issuerUrl = new URL(issuer);
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !isDiscoveryPath(ctx.path)) return next();
    // Only the path and query of the request target: an absolute-form target (GET http://evil/…) names no origin of ours.
    const target = new URL(ctx.originalUrl, issuerUrl.origin);
    const href = `${issuerUrl.origin}${target.pathname}${target.search}`;
    for (const [name, value] of [['href', href], ['host', issuerUrl.host], ['hostname', issuerUrl.hostname], ['protocol', issuerUrl.protocol.slice(0, -1)]] as const) {
      Object.defineProperty(ctx.request, name, { value, configurable: true });
    }
    await next();
    if (ctx.status === 200 && !ctx.response.get('Cache-Control')) ctx.set('Cache-Control', DISCOVERY_CACHE_CONTROL);
  };
}
