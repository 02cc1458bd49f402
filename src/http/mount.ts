// Runs a koa app's middleware (oidc-provider's) inside ours, under the issuer's path prefix: what
// koa-mount does, for our one use, so both share one context, cookies and security headers.
import type Koa from 'koa';
import compose from 'koa-compose';

/** Mounts a koa app's middleware under a path prefix (what koa-mount does, for our one use). */
export function mountAt(prefix: string, mounted: Koa): Koa.Middleware {
  const downstream = compose(mounted.middleware);
  return async (ctx, next) => {
    if (prefix && ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) return next();
    const original = ctx.path;
    ctx.path = original.slice(prefix.length) || '/';
    (ctx as unknown as { mountPath: string }).mountPath = prefix;
    try {
      await downstream(ctx, async () => { ctx.path = original; await next(); });
    } finally {
      ctx.path = original;
    }
  };
}

