// Counts dynamic client registrations per client IP in the database, so every server process shares
// the count: a fixed window opens at a bucket's first registration; past the limit, requests wait for its end.
import type { Queryable } from '../db/db.ts';

export interface RegistrationRateLimit {
  maxPerIp: number;
  windowSeconds: number;
}

export type RegistrationAllowance = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts one registration attempt against the bucket, atomically (concurrent requests in several
 * processes cannot slip past the limit). Every attempt counts, refused ones too: each costs us work,
 * and a flood of bad requests is as unwelcome as a flood of good ones. Over the limit the count stops
 * growing, so a client that keeps hammering still gets in when the window ends.
 */
export async function countRegistrationAttempt(db: Queryable, bucket: string, limit: RegistrationRateLimit, now = new Date()): Promise<RegistrationAllowance> {
  const { rows } = await db.query<{ registrations: number; window_started_at: Date }>(
    `INSERT INTO registration_rate AS r (bucket, registrations, window_started_at) VALUES ($1, 1, $2::timestamptz)
     ON CONFLICT (bucket) DO UPDATE SET
       registrations = CASE WHEN r.window_started_at <= $2::timestamptz - $3::int * interval '1 second' THEN 1
                            ELSE least(r.registrations + 1, $4::int + 1) END,
       window_started_at = CASE WHEN r.window_started_at <= $2::timestamptz - $3::int * interval '1 second'
                                THEN $2::timestamptz ELSE r.window_started_at END
     RETURNING registrations, window_started_at`,
    [bucket, now, limit.windowSeconds, limit.maxPerIp],
  );
  const row = rows[0]!;
  if (row.registrations <= limit.maxPerIp) return { allowed: true };
  const endsAt = new Date(row.window_started_at).getTime() + limit.windowSeconds * 1000;
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)) };
}

/** The longest window REGISTRATION_RATE_WINDOW_SECONDS allows: a bucket older than this has surely ended. */
export const MAX_REGISTRATION_WINDOW_SECONDS = 24 * 3600;

/** Deletes buckets whose window has ended (they would restart on their next use anyway). */
export async function purgeRegistrationRate(db: Queryable, now = new Date()): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM registration_rate WHERE window_started_at <= $1::timestamptz - $2::int * interval '1 second'`,
    [now, MAX_REGISTRATION_WINDOW_SECONDS],
  );
  return rowCount;
}
