// The refresh-token rotation and grace policy: one usable successor per token (RFC 9700 §4.14.2), an
// honest retry inside the grace window, and every other reuse treated as a replay that ends the grant.
//
// oidc-provider rotates (refresh_token.js): it reads the token, revokes the grant if it reads `consumed`,
// else consumes it and saves a successor. This file decides what "consumed" reads as, and makes the
// consume-and-save one conditional statement, so the decision holds under races on any number of servers:
// - a token is usable if never rotated, or rotated less than the grace window ago while its successor
//   has not been used yet (the client may have lost the response: it retries);
// - answering such a retry makes the new successor the token's only one: the earlier successor is
//   superseded and reads as consumed, so whoever presents it triggers oidc-provider's replay revocation;
// - once a successor has been rotated, its predecessor reads as consumed even inside the window.
// Every decision is a condition on the row of the token being rotated or of its parent, re-checked by
// PostgreSQL on the latest row version under its lock: two racing requests cannot both win. The loser
// of such a race is judged as if it had arrived a moment later: a replay, and the grant is revoked.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Queryable } from '../db/db.ts';

/** The grace window that applies to a model: only refresh tokens have one; codes are single-use. */
export const graceSecondsFor = (model: string, refreshGraceSeconds: number) =>
  (model === 'RefreshToken' ? refreshGraceSeconds : 0);

/** True inside the window: consumed, but recently enough (and with its successor unused) to retry. */
const retryable = (grace: string, alias = '') =>
  `(${grace}::int > 0 AND ${alias}consumed_at > now() - make_interval(secs => ${grace}::int) AND ${alias}successor_used_at IS NULL)`;

/**
 * SQL for what oidc-provider sees as a stored row's `consumed` (epoch seconds, or NULL for usable), for
 * a row of `oidc_models` under `alias`. A superseded successor (its parent names another one) reads as
 * consumed whatever its own state. Codes have no parent and no window: consumed once used.
 */
export const consumedMarkSql = (alias: string, grace: string) => `CASE
    WHEN ${alias}.rotated_from IS NOT NULL AND EXISTS (SELECT 1 FROM oidc_models parent
      WHERE parent.model = ${alias}.model AND parent.id = ${alias}.rotated_from AND parent.successor_id IS DISTINCT FROM ${alias}.id)
      THEN floor(extract(epoch FROM COALESCE(${alias}.consumed_at, now())))::int8
    WHEN ${alias}.consumed_at IS NULL OR ${retryable(grace, `${alias}.`)} THEN NULL
    ELSE floor(extract(epoch FROM ${alias}.consumed_at))::int8
  END`;

// $1 the token being rotated, $2 the grace window, $3 its successor's id (NULL: consumed without
// one), $4 the successor's expiry. The token is consumed (its first consumption time kept, so the
// window never slides) and names its successor; its parent's row records that its successor was used,
// but only if this token is still that successor (not superseded). The parent outlives its successors
// (expires_at), so a superseded one can never read as usable again once the parent is purged.
const consumeCtes = `predecessor AS (
    UPDATE oidc_models SET consumed_at = COALESCE(consumed_at, now()), successor_id = $3,
      expires_at = GREATEST(expires_at, $4::timestamptz)
    WHERE model = 'RefreshToken' AND id = $1 AND (consumed_at IS NULL OR ${retryable('$2')})
    RETURNING rotated_from
  ), claim AS (
    UPDATE oidc_models parent SET successor_used_at = COALESCE(parent.successor_used_at, now())
    FROM predecessor
    WHERE parent.model = 'RefreshToken' AND parent.id = predecessor.rotated_from AND parent.successor_id = $1
    RETURNING 1
  ), won AS (
    SELECT 1 FROM predecessor WHERE predecessor.rotated_from IS NULL OR EXISTS (SELECT 1 FROM claim)
  )`;

// The successor row: $5 model, $6 id, $7 payload, $8 grant, $9 uid, $10 user code, $11 expiry. Its id
// is new (oidc-provider draws it at random), so a plain insert. What rides along (the token.issued audit
// row, token-issue-write.ts) is kept only where the successor was written; its parameters follow from $12.
const rotateSql = (rider?: RiderSql) => `WITH ${consumeCtes}, successor AS (
    INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at, rotated_from)
    SELECT $5, $6, $7::jsonb, $8, $9, $10, $11::timestamptz, $1 WHERE EXISTS (SELECT 1 FROM won)
    RETURNING 1
  )${rider ? `, rider AS (${rider.sql})` : ''}
  SELECT 1 FROM successor`;

const consumeOnlySql = `WITH ${consumeCtes} SELECT 1 FROM won`;

export interface SuccessorRow {
  /** model, id, payload (JSON text), grant_id, uid, user_code, expires_at: the adapter's upsert columns. */
  values: readonly unknown[];
  grantId: string | undefined;
  expiresAt: Date | null;
}

/** A write that rides along with the rotation: SQL whose parameters start at `first`, kept only where `won` holds. */
export type RideAlong = (first: number, won: string) => RiderSql;
interface RiderSql { sql: string; values: readonly unknown[] }

/**
 * Consumes `predecessorId` and saves its successor, atomically: the successor (and what rides along)
 * exists only if this very statement won the token. Throws invalid_grant (after revoking the grant)
 * when it lost.
 */
export async function rotateRefreshToken(db: Queryable, ctx: KoaContextWithOIDC | undefined, predecessorId: string,
  successor: SuccessorRow, refreshGraceSeconds: number, rideAlong?: RideAlong): Promise<void> {
  const rider = rideAlong?.(12, 'EXISTS (SELECT 1 FROM successor)');
  const { rowCount } = await db.query(rotateSql(rider),
    [predecessorId, refreshGraceSeconds, successor.values[1], successor.expiresAt, ...successor.values, ...(rider?.values ?? [])]);
  if (rowCount === 0) await refuseLostRace(ctx, successor.grantId);
}

/** Consumes a refresh token without a successor (outside a rotation). False when it was not usable. */
export async function consumeRefreshToken(db: Queryable, id: string, refreshGraceSeconds: number): Promise<boolean> {
  const { rowCount } = await db.query(consumeOnlySql, [id, refreshGraceSeconds, null, null]);
  return rowCount > 0;
}

/**
 * The token read as usable, but by the time this request wrote, a racing request had used it, used its
 * successor, or superseded it. Had this request come a moment later it would have read `consumed` and
 * oidc-provider would have revoked the grant (refresh_token.js); so it is revoked the same way here, with
 * the same event (audited and counted as a replay, audit-events.ts).
 */
async function refuseLostRace(ctx: KoaContextWithOIDC | undefined, grantId: string | undefined): Promise<never> {
  const provider = ctx?.oidc?.provider;
  if (provider && grantId) {
    const grant = await provider.Grant.find(grantId);
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
      grant?.destroy(),
    ]);
    if (grant) provider.emit('grant.revoked', ctx, grantId);
  }
  throw new errors.InvalidGrant('refresh token already used');
}
