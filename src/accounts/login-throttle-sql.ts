// Failed sign-ins counted in the database (login_throttle), so every server process shares the count
// without Redis. One row per bucket: its failures and when its window began.
import type { Queryable } from '../db/db.ts';
import { MAX_THROTTLE_WINDOW_SECONDS, reservationOf, type LoginAttemptStore, type Reservation } from './login-throttle.ts';

/** One atomic statement: a row past its window restarts at 1; a locked bucket stays at limit + 2. */
export async function reserveAttempt(db: Queryable, bucket: string, limit: number, windowSeconds: number, now: Date): Promise<Reservation> {
  const { rows } = await db.query<{ failures: number; window_started_at: Date }>(
    `INSERT INTO login_throttle AS t (bucket, failures, window_started_at) VALUES ($1, 1, $2::timestamptz)
     ON CONFLICT (bucket) DO UPDATE SET
       failures = CASE WHEN t.window_started_at <= $2::timestamptz - $3::int * interval '1 second' THEN 1
                       WHEN t.failures > $4::int THEN $4::int + 2
                       ELSE t.failures + 1 END,
       window_started_at = CASE WHEN t.window_started_at <= $2::timestamptz - $3::int * interval '1 second'
                                THEN $2::timestamptz ELSE t.window_started_at END
     RETURNING failures, window_started_at`,
    [bucket, now, windowSeconds, limit],
  );
  const row = rows[0]!;
  return reservationOf(bucket, row.failures, new Date(row.window_started_at), limit, windowSeconds, now);
}

/** Only the reservation's own window: a window that restarted since owes it nothing. */
export async function releaseAttempt(db: Queryable, reservation: { bucket: string; windowStartedAt: Date }): Promise<void> {
  await db.query(
    'UPDATE login_throttle SET failures = failures - 1 WHERE bucket = $1 AND window_started_at = $2::timestamptz AND failures > 0',
    [reservation.bucket, reservation.windowStartedAt],
  );
}

export async function clearBucket(db: Queryable, bucket: string): Promise<void> {
  await db.query('DELETE FROM login_throttle WHERE bucket = $1', [bucket]);
}

export function databaseLoginAttempts(db: Queryable): LoginAttemptStore {
  return {
    reserveAttempt: (bucket, limit, windowSeconds, now) => reserveAttempt(db, bucket, limit, windowSeconds, now),
    releaseAttempt: (reservation) => releaseAttempt(db, reservation),
    clearBucket: (bucket) => clearBucket(db, bucket),
  };
}

/** Deletes buckets whose window has ended (they would be reset on their next use anyway). */
export async function purgeLoginThrottle(db: Queryable, windowSeconds = MAX_THROTTLE_WINDOW_SECONDS, now = new Date()): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM login_throttle WHERE window_started_at <= $1::timestamptz - $2::int * interval '1 second'`, [now, windowSeconds]);
  return rowCount;
}
