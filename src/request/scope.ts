// Marks the koa context of the request being served, for code that has no context passed to it
// (the storage adapter called from our own routes). oidc-provider's own routes have Provider.ctx.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Koa from 'koa';

const currentRequest = new AsyncLocalStorage<object>();

export function requestScope(): Koa.Middleware {
  return (ctx, next) => currentRequest.run(ctx, next);
}

export function currentRequestContext(): object | undefined {
  return currentRequest.getStore();
}
