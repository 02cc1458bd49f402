// Runs a koa app's middleware (oidc-provider's) inside ours, under the issuer's path prefix: what
// koa-mount does, for our one use, so both share one context, cookies and security headers. Whether a
// request is under the prefix is the route resolver's answer (route-resolver.ts), matched as the routers
// match, never a comparison of the path's spelling here.
import type Koa from 'koa';
import compose from 'koa-compose';

/** Mounts a koa app's middleware under a path prefix; `underMount` says which requests go in. */
export function mountAt(prefix: string, mounted: Koa, underMount: (ctx: Koa.Context) => boolean): Koa.Middleware {
  const downstream = compose(mounted.middleware);
  return async (ctx, next) => {
    if (!underMount(ctx)) return next();
    const original = ctx.path;
    // The resolver folds only ASCII letters, so the prefix's spelling has the prefix's length.
    ctx.path = original.slice(prefix.length) || '/';
    (ctx as unknown as { mountPath: string }).mountPath = prefix;
    try {
      await downstream(ctx, async () => { ctx.path = original; await next(); });
    } finally {
      ctx.path = original;
    }
  };
}
