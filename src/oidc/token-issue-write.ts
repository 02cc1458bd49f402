// A token request's refresh token and its token.issued audit row, written in one statement when the
// request ends (adapter-settlement.ts), not in two. oidc-provider saves the refresh token before it
// builds the access token the audit row describes (refresh_token.js, grant_common.js) and announces the
// grant only afterwards (grant.success), so the save is held on the request until then: the adapter defers
// it here, audit-events.ts attaches the row. A rotation's consume of the old token is in the same statement
// (refresh-rotation-policy.ts): the successor and the audit row exist only if this request won the old
// token. The response waits for the statement, so no token leaves unless its row and its audit row are
// committed, and a response that failed meanwhile writes neither (the old token stays as it was).
import type { KoaContextWithOIDC } from 'oidc-provider';
import Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { announceAuditEvents, auditEventsInsert, type AuditEvent } from '../audit/store.ts';
import { requestState } from '../request/state.ts';
import { MODEL_UPSERT_SQL } from './model-upsert.ts';
import { rotateRefreshToken, type SuccessorRow } from './refresh-rotation-policy.ts';

interface PendingTokenWrite {
  successor: SuccessorRow;
  /** The refresh token this one replaces (a rotation), whose consume is written with it. */
  predecessorId: string | undefined;
  audit: AuditEvent[];
}

const pendingOf = (ctx: object) => requestState(ctx).pendingTokenWrite as PendingTokenWrite | undefined;

/**
 * Holds a token request's refresh-token save to the end of the request. False outside oidc-provider's
 * token route, or when one is already held (oidc-provider saves one per request): the caller saves now.
 */
export function deferRefreshTokenSave(successor: SuccessorRow, predecessorId: string | undefined): boolean {
  const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
  if (ctx?.oidc?.route !== 'token' || pendingOf(ctx)) return false;
  requestState(ctx).pendingTokenWrite = { successor, predecessorId, audit: [] } satisfies PendingTokenWrite;
  return true;
}

/** Puts `event` in the statement of the request's held save; false when none is held (record it apart). */
export function attachAuditEvent(ctx: object, event: AuditEvent): boolean {
  const pending = pendingOf(ctx);
  if (!pending) return false;
  pending.audit.push(event);
  return true;
}

/**
 * Writes the held save with its audit rows. A response that is not a success writes nothing. Throws
 * invalid_grant (after revoking the grant, refresh-rotation-policy.ts) when a rotation lost its token to
 * a racing request: the caller answers with it instead of the tokens.
 */
export async function settleTokenWrite(db: Db, ctx: KoaContextWithOIDC, refreshGraceSeconds: number): Promise<void> {
  const pending = pendingOf(ctx);
  if (!pending) return;
  requestState(ctx).pendingTokenWrite = undefined;
  if (ctx.status >= 300) return;
  const { successor, predecessorId, audit } = pending;
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
