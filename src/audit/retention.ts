// The one way audit events leave the database: events older than AUDIT_RETENTION_DAYS, deleted in
// batches by the purge timer under the session setting the append-only trigger (migration 0007) checks.
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from './store.ts';

export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

/**
 * Deletes events older than `retentionDays`, at most `batchSize` per transaction until none is left;
 * records the purge itself (an auditor asks where the old evidence went). Returns how many went.
 */
export async function purgeExpiredAuditEvents(db: Db, retentionDays: number, batchSize = 5000, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 3600 * 1000);
  let total = 0;
  for (;;) {
    const deleted = await db.transaction(async (tx) => {
      // SET LOCAL: the permission ends with this transaction, so no later statement on the pooled
      // connection inherits it.
      await tx.query(`SELECT set_config('portcullis.audit_purge', 'on', true)`);
      const { rowCount } = await tx.query(
        `DELETE FROM audit_events WHERE id IN (
           SELECT id FROM audit_events WHERE occurred_at < $1::timestamptz ORDER BY occurred_at LIMIT $2)`,
        [cutoff, batchSize],
      );
      return rowCount;
    });
    total += deleted;
    if (deleted < batchSize) break;
  }
  if (total > 0) {
    await recordAuditEvent(db, {
      type: 'audit.purged', actor: { type: 'system' },
      details: { deleted: total, before: cutoff.toISOString(), retention_days: retentionDays },
    });
  }
  return total;
}
