// The admin API's door: an admin API token as `Authorization: Bearer` (RFC 6750), nothing else (no
// cookie, so no cross-site request can act as an admin), and JSON errors with stable codes.
import type Koa from 'koa';
import type { Db } from '../db/db.ts';
import { AppError, errorBoundary } from '../errors.ts';
import { apiActor } from './actor.ts';
import { verifyAdminApiToken } from '../admin-tokens/store.ts';

const REALM = 'Bearer realm="portcullis-admin"';

/** Thrown inside apiErrors(), so always JSON. RFC 6750 §3.1: no error code when the request carried no credentials at all. */
const unauthorized = (description: string, withError: boolean) =>
  new AppError('invalid_token', description, { challenge: withError ? `${REALM}, error="invalid_token"` : REALM });

export function requireAdminToken(db: Db): Koa.Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    if (!header) throw unauthorized('send an admin API token as "Authorization: Bearer <token>" (create one with: admin-token create --name N)', false);
    const presented = /^Bearer ([^\s]+)$/i.exec(header)?.[1];
    const token = presented ? await verifyAdminApiToken(db, presented) : undefined;
    if (!token) throw unauthorized('the admin API token is unknown, malformed or revoked', true);
    ctx.state.admin = { actor: apiActor(ctx, token.id), email: undefined };
    return next();
  };
}

/** Every API error as `{ error, error_description }` JSON, whatever the caller's Accept header says. */
export const apiErrors = (): Koa.Middleware => errorBoundary({ alwaysJson: true });
