// Writes the storage adapter deferred to the end of a request (src/oidc/adapter.ts): an authorization
// step's saves and deletions in one statement (held-model-writes.ts); a dropped session
// id is deleted even when the request failed; a token request's refresh token is written with its audit
// row and the consume of the code or refresh token it redeems (token-issue-write.ts); and a redemption that
// lost a race turns the response into invalid_grant before it leaves (src/oidc/refresh-rotation-policy.ts).
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { AppError, respondWithOAuthError } from '../errors.ts';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { settlePendingConsume, settlePendingDestroy } from './adapter.ts';
import { CodeAlreadyUsedError, settleTokenWrite } from './token-issue-write.ts';
import { flushHeldModelWrites } from './held-model-writes.ts';

export function settleAdapterWrites(db: Db, refreshGraceSeconds: number): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      // An authorization step's writes, before its redirect leaves; also when it failed.
      await flushHeldModelWrites(db, ctx);
      // An old session id must not outlive the request that replaced it, even one that failed.
      await settlePendingDestroy(db, ctx);
    }
    try {
      await settleTokenWrite(db, ctx as unknown as KoaContextWithOIDC, refreshGraceSeconds);
    } catch (error) {
      // A code exchange that lost its code to a racing request: nothing it issued was written or leaves.
      if (error instanceof CodeAlreadyUsedError) {
        respondWithOAuthError(ctx, new AppError('invalid_grant', 'authorization code already used'));
        return;
      }
      // A rotation that lost its token to a racing request: the grant is revoked, the tokens never leave.
      if (!(error instanceof errors.InvalidGrant)) throw error;
      respondWithOAuthError(ctx, new AppError('invalid_grant', 'refresh token already used'));
      return;
    }
    if (!(await settlePendingConsume(db, ctx, refreshGraceSeconds))) {
      respondWithOAuthError(ctx, new AppError('invalid_grant', 'refresh token already used'));
    }
  };
}
