// Deletes rows whose lifetime has passed (expired codes, tokens, sessions, interactions), in batches,
// on a timer. find() already ignores them; this keeps the table small.
import type { Db } from '../db/db.ts';
import { log } from '../log.ts';

export async function purgeExpiredRows(db: Db, batchSize = 5000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM oidc_models WHERE (model, id) IN (
       SELECT model, id FROM oidc_models WHERE expires_at < now() LIMIT $1)`,
    [batchSize],
  );
  return rowCount;
}

export function startPurgeTimer(db: Db, intervalSeconds: number): () => void {
  const timer = setInterval(() => {
    purgeExpiredRows(db).catch((error: unknown) => {
      log.warn('purge of expired rows failed', { error: String(error) });
    });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
