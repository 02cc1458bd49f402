// Self-registered clients that never obtained a token expire: dynamic registration is open, and a
// registration nobody uses is only a row an attacker made. Run by the purge timer (src/oidc/purge.ts).
import type { Db } from '../db/db.ts';
import { removeClientRemains } from './lifecycle.ts';

/**
 * Deletes dynamically registered clients issued at least `ttlSeconds` before `now` that no token was
 * ever issued to (no client_lifecycle.last_used_at), with their remains; returns how many went. A
 * client used since keeps its registration for good, until an operator deletes it.
 */
export async function purgeUnusedRegistrations(db: Db, ttlSeconds: number, now = new Date(), batchSize = 1000): Promise<number> {
  const cutoff = Math.floor(now.getTime() / 1000) - ttlSeconds;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `DELETE FROM oidc_models WHERE model = 'Client' AND id IN (
         SELECT c.id FROM oidc_models c
         WHERE c.model = 'Client' AND c.payload->>'portcullis_source' = 'dynamic_registration'
           AND (c.payload->>'client_id_issued_at')::bigint <= $1
           AND NOT EXISTS (SELECT 1 FROM client_lifecycle l WHERE l.client_id = c.id AND l.last_used_at IS NOT NULL)
         LIMIT $2)
       RETURNING id`,
      [cutoff, batchSize],
    );
    const clientIds = rows.map((row) => row.id);
    await removeClientRemains(tx, clientIds);
    return clientIds.length;
  });
}
