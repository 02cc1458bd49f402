// SQL for each client's recent failed requests (0019): one row per distinct failure with a count, at most
// MAX_FAILURES_PER_CLIENT rows per client, purged once not seen for FAILURE_RETENTION_DAYS.
import type { Queryable } from '../db/db.ts';
import { fingerprintOf, type FailedRequest, type FailureEndpoint, type RequestFacts } from './capture.ts';

/**
 * The rows kept per client: enough to see every distinct way a client fails, few enough that anyone
 * sending broken requests in a client's name (its client_id is public) adds nothing once the cap is reached.
 */
export const MAX_FAILURES_PER_CLIENT = 25;
export const FAILURE_RETENTION_DAYS = 30;

export interface StoredFailure extends FailedRequest {
  id: string;
  firstAt: Date;
  lastAt: Date;
  occurrences: number;
}

type FailureRow = {
  id: string; client_id: string; endpoint: FailureEndpoint; error: string; error_description: string | null;
  error_detail: string | null; request: RequestFacts; first_at: Date | string; last_at: Date | string; occurrences: number;
};

/**
 * Records one failure: a repeat bumps its row's count and time; a new one may push the client's oldest
 * row out. One statement per failure, so writers on several servers need no lock: two racing may leave
 * a row or two over the cap, which the client's next failure trims.
 */
export async function recordFailure(db: Queryable, failure: FailedRequest): Promise<void> {
  await db.query(
    `WITH upserted AS (
       INSERT INTO client_failures (client_id, fingerprint, endpoint, error, error_description, error_detail, request)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (client_id, fingerprint) DO UPDATE SET occurrences = client_failures.occurrences + 1, last_at = now()
       RETURNING id
     )
     DELETE FROM client_failures WHERE client_id = $1 AND id NOT IN (SELECT id FROM upserted) AND id IN (
       SELECT id FROM client_failures WHERE client_id = $1 ORDER BY last_at DESC, id DESC OFFSET $8)`,
    [failure.clientId, fingerprintOf(failure), failure.endpoint, failure.error, failure.errorDescription ?? null,
      failure.errorDetail ?? null, JSON.stringify(failure.request), MAX_FAILURES_PER_CLIENT - 1],
  );
}

/** A client's failures, the most recently seen first. */
export async function listFailuresOfClient(db: Queryable, clientId: string, limit = MAX_FAILURES_PER_CLIENT): Promise<StoredFailure[]> {
  const { rows } = await db.query<FailureRow>(
    `SELECT id::text, client_id, endpoint, error, error_description, error_detail, request, first_at, last_at, occurrences
     FROM client_failures WHERE client_id = $1 ORDER BY last_at DESC, client_failures.id DESC LIMIT $2`,
    [clientId, limit],
  );
  return rows.map((row) => ({
    id: row.id, clientId: row.client_id, endpoint: row.endpoint, error: row.error,
    errorDescription: row.error_description ?? undefined, errorDetail: row.error_detail ?? undefined,
    request: row.request, firstAt: new Date(row.first_at), lastAt: new Date(row.last_at), occurrences: row.occurrences,
  }));
}

/** Deletes failures not seen for `days` (a client fixed long ago, or deleted). */
export async function purgeOldFailures(db: Queryable, days = FAILURE_RETENTION_DAYS): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM client_failures WHERE last_at < now() - make_interval(days => $1::int)`, [days]);
  return rowCount;
}
