// SQL for remembered metadata-document failures (0011): a client_id whose fetch or validation failed
// gets the same error, without a fetch, for a short while, in every server process.
import type { Queryable } from '../db/db.ts';
import { isMetadataDocumentErrorCode, MetadataDocumentError } from './errors.ts';

/**
 * How long a failure is remembered. Long enough that a client (or an attacker) retrying in a loop, or
 * many processes asked at once, cost the document's host and our fetch slots one fetch a minute; short
 * enough that a developer who fixes a broken document waits at most a minute (`cimd forget` clears it
 * at once). The same as the shortest time a good document is cached (MIN_CACHE_SECONDS).
 */
export const FAILURE_MEMORY_SECONDS = 60;

/** Remembers why `clientId` could not be used, until `seconds` from now (replacing an earlier failure). */
export async function rememberFailure(db: Queryable, clientId: string, error: MetadataDocumentError, seconds = FAILURE_MEMORY_SECONDS): Promise<void> {
  await db.query(
    `INSERT INTO client_metadata_document_failures (client_id, error_code, message, failed_at, retry_after)
     VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4::int))
     ON CONFLICT (client_id) DO UPDATE SET error_code = EXCLUDED.error_code, message = EXCLUDED.message,
       failed_at = EXCLUDED.failed_at, retry_after = EXCLUDED.retry_after`,
    [clientId, error.code, error.message, seconds],
  );
}

/** The error to answer again if `clientId` failed within its memory window; undefined otherwise. */
export async function findRememberedFailure(db: Queryable, clientId: string): Promise<MetadataDocumentError | undefined> {
  const { rows } = await db.query<{ error_code: string; message: string }>(
    `SELECT error_code, message FROM client_metadata_document_failures WHERE client_id = $1 AND retry_after > now()`,
    [clientId],
  );
  const row = rows[0];
  // A code this version does not know (written by a newer one) is not repeated: the document is fetched.
  return row && isMetadataDocumentErrorCode(row.error_code) ? new MetadataDocumentError(row.error_code, row.message) : undefined;
}

/** Forgets the failure of `clientId`, whether or not its window has passed. Returns whether there was one. */
export async function forgetFailure(db: Queryable, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM client_metadata_document_failures WHERE client_id = $1', [clientId]);
  return rowCount > 0;
}

/** Deletes up to `batchSize` failures whose window has passed (they are no longer read). */
export async function purgeExpiredFailures(db: Queryable, now = new Date(), batchSize = 5000): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM client_metadata_document_failures WHERE client_id IN (
       SELECT client_id FROM client_metadata_document_failures WHERE retry_after <= $1::timestamptz LIMIT $2)`,
    [now, batchSize],
  );
  return rowCount;
}
