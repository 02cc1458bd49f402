// Deletes rows whose lifetime has passed (expired codes, tokens, sessions, interactions), in batches,
// on a timer. find() already ignores them; this keeps the table small.
import type { Db } from '../db/db.ts';
import { log } from '../log.ts';
import { purgeLoginThrottle } from '../accounts/login-throttle-sql.ts';
import { purgeUnusedRegistrations } from '../clients/expiry.ts';
import { purgeRegistrationRate } from '../clients/registration-rate-sql.ts';
import { DEFAULT_AUDIT_RETENTION_DAYS, purgeExpiredAuditEvents } from '../audit/retention.ts';
import { purgeRateLimitCounters } from '../rate-limit/counter-store.ts';
import { purgeMetadataDocumentCache } from '../cimd/store.ts';
import { purgeOldFailures } from '../diagnostics/store.ts';
import { purgeExpiredIdJagJtis } from '../id-jag/store.ts';
import { purgeOrphanToolReconsents } from '../grants/tool-reconsent-store.ts';

/**
 * Deletes expired rows batch after batch until a batch comes back short, so the purge keeps up with a
 * flood (of /auth interactions, say) instead of removing one batch per interval; `maxBatches` bounds
 * one run, and each batch is its own short statement, so other queries interleave.
 */
export async function purgeExpiredRows(db: Db, batchSize = 5000, maxBatches = 200): Promise<number> {
  let purged = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const { rowCount } = await db.query(
      `DELETE FROM oidc_models WHERE (model, id) IN (
         SELECT model, id FROM oidc_models WHERE expires_at < now() LIMIT $1)`,
      [batchSize],
    );
    purged += rowCount;
    if (rowCount < batchSize) break;
  }
  return purged;
}

/**
 * `unusedClientTtlSeconds`: how long a self-registered client may go without a token (DCR_UNUSED_CLIENT_TTL_SECONDS);
 * `auditRetentionDays`: how long audit events are kept (AUDIT_RETENTION_DAYS). `more`: further purges, run last.
 */
export function startPurgeTimer(db: Db, intervalSeconds: number, unusedClientTtlSeconds = 7 * 24 * 3600,
  auditRetentionDays = DEFAULT_AUDIT_RETENTION_DAYS, more: ReadonlyArray<(db: Db) => Promise<unknown>> = []): () => void {
  const timer = setInterval(() => {
    // Sign-in throttle buckets whose window has passed go too (login-throttle-sql.ts).
    // So do self-registered clients never used, and registration rate buckets (src/clients/).
    purgeExpiredRows(db).then(() => purgeLoginThrottle(db))
      .then(() => purgeUnusedRegistrations(db, unusedClientTtlSeconds)).then(() => purgeRegistrationRate(db))
      // Ended rate-limit windows, and audit events past their retention (src/rate-limit/, src/audit/).
      .then(() => purgeRateLimitCounters(db)).then(() => purgeExpiredAuditEvents(db, auditRetentionDays))
      // Metadata documents nothing refers to any more, stale re-consent flags, old fetch failures (src/cimd/).
      .then(() => purgeMetadataDocumentCache(db))
      // Clients' failed requests not seen for 30 days (src/diagnostics/).
      .then(() => purgeOldFailures(db))
      // ID-JAG replay records of assertions past their expiry (src/id-jag/).
      .then(() => purgeExpiredIdJagJtis(db))
      // Re-consent flags of grants that ended (src/grants/tool-reconsent-store.ts).
      .then(() => purgeOrphanToolReconsents(db))
      // Purges of domains that import this folder, passed in by main.ts (the tool calls: src/tools/calls.ts).
      .then(async () => { for (const purge of more) await purge(db); }).catch((error: unknown) => {
      log.warn('purge of expired rows failed', { error: String(error) });
    });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
