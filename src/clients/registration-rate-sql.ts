// Dynamic client registrations per IP counted in the database (registration_rate), so every server
// process shares the count without Redis. One row per bucket: its count and when its window began.
import type { Queryable } from '../db/db.ts';
import {
  allowanceOf, MAX_REGISTRATION_WINDOW_SECONDS, type RegistrationAllowance, type RegistrationAttemptStore, type RegistrationRateLimit,
} from './registration-rate-limit.ts';

/** One atomic statement: a row past its window restarts at 1; otherwise the count grows up to limit + 1. */
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
  return allowanceOf(row.registrations, new Date(row.window_started_at), limit, now);
}

export function databaseRegistrationAttempts(db: Queryable): RegistrationAttemptStore {
  return { countRegistrationAttempt: (bucket, limit, now) => countRegistrationAttempt(db, bucket, limit, now) };
}

/** Deletes buckets whose window has ended (they would restart on their next use anyway). */
export async function purgeRegistrationRate(db: Queryable, now = new Date()): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM registration_rate WHERE window_started_at <= $1::timestamptz - $2::int * interval '1 second'`,
    [now, MAX_REGISTRATION_WINDOW_SECONDS],
  );
  return rowCount;
}
