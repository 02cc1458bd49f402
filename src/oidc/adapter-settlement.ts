// Writes the storage adapter deferred to the end of a request (src/oidc/adapter.ts): a dropped session
// id is deleted even when the request failed, and a refresh token's deferred consume that lost a race
// turns the response into invalid_grant before it leaves (src/oidc/refresh-rotation-policy.ts).
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { AppError, respondWithOAuthError } from '../errors.ts';
import { settlePendingConsume, settlePendingDestroy } from './adapter.ts';

export function settleAdapterWrites(db: Db, refreshGraceSeconds: number): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      // An old session id must not outlive the request that replaced it, even one that failed.
      await settlePendingDestroy(db, ctx);
    }
    if (!(await settlePendingConsume(db, ctx, refreshGraceSeconds))) {
      respondWithOAuthError(ctx, new AppError('invalid_grant', 'refresh token already used'));
    }
  };
}
