// A token request's writes, sent in one statement when the request ends (adapter-settlement.ts): the
// refresh token, its token.issued audit row, and the consume of what was redeemed. oidc-provider saves the
// refresh token before it builds the access token the audit row describes (refresh_token.js,
// authorization_code.js, grant_common.js) and announces the grant only afterwards (grant.success), so the
// save is held on the request until then: the adapter defers it here, audit-events.ts attaches the row.
// What was redeemed is consumed in the same statement: a rotation's old refresh token
// (refresh-rotation-policy.ts), or the authorization code of a code exchange. The new rows and the audit row
// exist only if this request won it, so of two racing redemptions exactly one issues tokens. The response
// waits for the statement, so no token leaves unless its row and its audit row are committed, and a response
// that failed meanwhile writes none of them (a code is still consumed: it was presented).
import type { KoaContextWithOIDC } from 'oidc-provider';
import Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { announceAuditEvents, auditEventsInsert, type AuditEvent } from '../audit/store.ts';
import { requestState } from '../request/state.ts';
import { MODEL_UPSERT_SQL } from './model-upsert.ts';
import { rotateRefreshToken, type SuccessorRow } from './refresh-rotation-policy.ts';

interface PendingTokenWrite {
  successor: SuccessorRow | undefined;
  /** The refresh token this one replaces (a rotation), whose consume is written with it. */
  predecessorId: string | undefined;
  /** The authorization code this request redeems, consumed with what it issues. */
  codeId: string | undefined;
  /** Other rows the code's redemption saves (an opaque access token), written only if it won the code. */
  alsoSaved: (readonly unknown[])[];
  audit: AuditEvent[];
}

export class CodeAlreadyUsedError extends Error {
  override name = 'CodeAlreadyUsedError';
}

const pendingOf = (ctx: object) => requestState(ctx).pendingTokenWrite as PendingTokenWrite | undefined;

function tokenRouteContext(): KoaContextWithOIDC | undefined {
  const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
  return ctx?.oidc?.route === 'token' ? ctx : undefined;
}

function pendingFor(ctx: KoaContextWithOIDC): PendingTokenWrite {
  let pending = pendingOf(ctx);
  if (!pending) {
    pending = { successor: undefined, predecessorId: undefined, codeId: undefined, alsoSaved: [], audit: [] };
    requestState(ctx).pendingTokenWrite = pending;
  }
  return pending;
}

/**
 * Holds a token request's refresh-token save to the end of the request. False outside oidc-provider's
 * token route, or when one is already held (oidc-provider saves one per request): the caller saves now.
 */
export function deferRefreshTokenSave(successor: SuccessorRow, predecessorId: string | undefined): boolean {
  const ctx = tokenRouteContext();
  if (!ctx || pendingOf(ctx)?.successor) return false;
  const pending = pendingFor(ctx);
  // A rotation consumes a refresh token, a code exchange a code: never both in one request.
  if (predecessorId !== undefined && pending.codeId !== undefined) return false;
  Object.assign(pending, { successor, predecessorId });
  return true;
}

/** Holds the consume of the code a token request redeems; false outside the token route (consume now). */
export function deferCodeConsume(codeId: string): boolean {
  const ctx = tokenRouteContext();
  if (!ctx || pendingOf(ctx)?.codeId !== undefined) return false;
  pendingFor(ctx).codeId = codeId;
  return true;
}

/** Holds another row's save (the adapter's upsert values) when it belongs to a held code redemption. */
export function deferSaveWithCode(values: readonly unknown[]): boolean {
  const ctx = tokenRouteContext();
  const pending = ctx ? pendingOf(ctx) : undefined;
  if (pending?.codeId === undefined) return false;
  pending.alsoSaved.push(values);
  return true;
}

/** Puts `event` in the statement of the request's held save; false when none is held (record it apart). */
export function attachAuditEvent(ctx: object, event: AuditEvent): boolean {
  const pending = pendingOf(ctx);
  if (!pending) return false;
  pending.audit.push(event);
  return true;
}

// $1 the code. The rows it issues (seven values each, from $2) and the audit rows are inserted only if
// this statement consumed it; it returns a row only then.
function codeRedemptionSql(rows: number, rider: { sql: string } | undefined): string {
  const saves = Array.from({ length: rows }, (_, row) => {
    const p = (column: number) => `$${2 + row * 7 + column}`;
    return `saved${row} AS (INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
      SELECT ${p(0)}, ${p(1)}, ${p(2)}::jsonb, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}::timestamptz WHERE EXISTS (SELECT 1 FROM consumed))`;
  });
  return `WITH consumed AS (
      UPDATE oidc_models SET consumed_at = now() WHERE model = 'AuthorizationCode' AND id = $1 AND consumed_at IS NULL RETURNING 1
    )${[...saves, ...(rider ? [`rider AS (${rider.sql})`] : [])].map((cte) => `, ${cte}`).join('')}
    SELECT 1 FROM consumed`;
}

/** Consumes the held code with what its redemption issues; throws CodeAlreadyUsedError when it lost it. */
async function redeemCode(db: Db, pending: PendingTokenWrite, issued: boolean): Promise<void> {
  const rows = issued ? [...(pending.successor ? [pending.successor.values] : []), ...pending.alsoSaved] : [];
  const audit = issued ? pending.audit : [];
  const first = 2 + rows.length * 7;
  const rider = audit.length ? auditEventsInsert(audit, first, 'EXISTS (SELECT 1 FROM consumed)') : undefined;
  const { rowCount } = await db.query(codeRedemptionSql(rows.length, rider), [pending.codeId, ...rows.flat(), ...(rider?.values ?? [])]);
  if (rowCount === 0 && issued) throw new CodeAlreadyUsedError('authorization code already used');
  if (audit.length) announceAuditEvents(db, audit);
}

/**
 * Writes the held save with its audit rows. A response that is not a success writes nothing but the
 * code's consume. Throws invalid_grant (after revoking the grant, refresh-rotation-policy.ts) when a
 * rotation lost its token to a racing request, and CodeAlreadyUsedError when a code exchange lost its
 * code: the caller answers with invalid_grant instead of the tokens.
 */
export async function settleTokenWrite(db: Db, ctx: KoaContextWithOIDC, refreshGraceSeconds: number): Promise<void> {
  const pending = pendingOf(ctx);
  if (!pending) return;
  requestState(ctx).pendingTokenWrite = undefined;
  const issued = ctx.status < 300;
  if (pending.codeId !== undefined) return redeemCode(db, pending, issued);
  const { successor, predecessorId, audit } = pending;
  if (!issued) return;
  if (!successor) {
    if (audit.length) await recordApart(db, audit);
    return;
  }
  if (predecessorId !== undefined) {
    await rotateRefreshToken(db, ctx, predecessorId, successor, refreshGraceSeconds,
      audit.length ? (first, won) => auditEventsInsert(audit, first, won) : undefined);
  } else if (audit.length) {
    const rider = auditEventsInsert(audit, successor.values.length + 1);
    await db.query(`WITH saved AS (${MODEL_UPSERT_SQL}) ${rider.sql}`, [...successor.values, ...rider.values]);
  } else {
    await db.query(MODEL_UPSERT_SQL, successor.values);
  }
  if (audit.length) announceAuditEvents(db, audit);
}

async function recordApart(db: Db, audit: AuditEvent[]): Promise<void> {
  const rider = auditEventsInsert(audit, 1);
  await db.query(rider.sql, rider.values);
  announceAuditEvents(db, audit);
}
