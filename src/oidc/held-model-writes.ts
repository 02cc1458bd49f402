// The storage writes of one authorization step, held to the end of the request and sent as one statement:
// oidc-provider's authorization and resume routes (the interaction or code it saves, the session it saves
// and the old session id it drops, a grant a policy narrowed) and our consent answer (the grant, the
// interaction's result, and the answer's audit row). Each of those requests answers with a redirect that
// leaves only after its writes are committed (the caller awaits the flush before the response is sent), so
// the next request of the flow always finds them; a failed request still writes what it held (the audit row
// of a refusal, the drop of a renewed session id), and the writes of one step land together or not at all.
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { announceAuditEvents, auditEventsInsert, type AuditEvent } from '../audit/store.ts';
import { currentRequestContext } from '../request/scope.ts';
import { requestState } from '../request/state.ts';
import { modelUpsertSql } from './model-upsert.ts';

/** A save (the adapter's seven upsert values) or a deletion of one oidc_models row. */
export type HeldModelWrite =
  | { kind: 'upsert'; model: string; id: string; values: unknown[] }
  | { kind: 'delete'; model: string; id: string };

interface HeldWrites {
  /** By model and id: a later write of the same row replaces an earlier one (one statement cannot change a row twice). */
  rows: Map<string, HeldModelWrite>;
  audit: AuditEvent[];
}

// oidc-provider's routes whose writes are held; our own routes opt in with holdingModelWrites.
const HOLDING_ROUTES = new Set(['authorization', 'resume']);

const rowKey = (write: HeldModelWrite) => `${write.model}\u0000${write.id}`;

function currentContext(): object | undefined {
  return (Provider.ctx as KoaContextWithOIDC | undefined) ?? currentRequestContext();
}

function heldFor(ctx: object | undefined, start: boolean): HeldWrites | undefined {
  if (!ctx) return undefined;
  const state = requestState(ctx);
  let held = state.heldModelWrites as HeldWrites | undefined;
  const route = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
  if (!held && start && route !== undefined && HOLDING_ROUTES.has(route)) {
    held = { rows: new Map(), audit: [] };
    state.heldModelWrites = held;
  }
  return held;
}

/** Holds `write` to the end of the request; false when this request does not hold writes (write it now). */
export function holdModelWrite(write: HeldModelWrite): boolean {
  const held = heldFor(currentContext(), true);
  if (!held) return false;
  held.rows.delete(rowKey(write));
  held.rows.set(rowKey(write), write);
  return true;
}

/** Adds `event` to the held statement; false when this request holds no writes (record it apart). */
export function holdAuditEvent(db: Db, event: AuditEvent): boolean {
  const held = heldFor(currentContext(), false);
  if (!held) return false;
  // Logged and counted now, as recordAuditEvents does: the line survives a statement that fails.
  announceAuditEvents(db, [event]);
  held.audit.push(event);
  return true;
}

/** Writes everything held for `ctx` in one statement (none when nothing is held). */
export async function flushHeldModelWrites(db: Db, ctx: object): Promise<void> {
  const state = requestState(ctx);
  const held = state.heldModelWrites as HeldWrites | undefined;
  state.heldModelWrites = undefined;
  if (!held || (held.rows.size === 0 && held.audit.length === 0)) return;
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const write of held.rows.values()) {
    if (write.kind === 'upsert') {
      parts.push(modelUpsertSql(values.length + 1));
      values.push(...write.values);
    } else {
      parts.push(`DELETE FROM oidc_models WHERE model = $${values.length + 1} AND id = $${values.length + 2}`);
      values.push(write.model, write.id);
    }
  }
  if (held.audit.length > 0) {
    const rider = auditEventsInsert(held.audit, values.length + 1);
    parts.push(rider.sql);
    values.push(...rider.values);
  }
  // Data-modifying CTEs all run, to completion, whether or not the last statement reads them.
  const last = parts.pop()!;
  const sql = parts.length === 0 ? last : `WITH ${parts.map((part, n) => `held${n} AS (${part})`).join(', ')} ${last}`;
  await db.query(sql, values);
}

/**
 * Runs one of our routes' steps with its writes held, and writes them when it ends (also when it throws).
 * The step must not send the response itself (use interactionResult, not interactionFinished).
 */
export async function holdingModelWrites<T>(db: Db, ctx: object, step: () => Promise<T>): Promise<T> {
  requestState(ctx).heldModelWrites = { rows: new Map(), audit: [] } satisfies HeldWrites;
  try {
    return await step();
  } finally {
    await flushHeldModelWrites(db, ctx);
  }
}
