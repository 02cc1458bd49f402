// Counts failed sign-ins per bucket (an email, an IP) in the database, so every server process shares
// the count. A fixed window opens at a bucket's first failure; at the limit the bucket is locked until it ends.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Queryable } from '../db/db.ts';

export interface LoginThrottlePolicy {
  maxFailuresPerEmail: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
}

/** OWASP Authentication Cheat Sheet-style defaults: 5 per email, 20 per IP, per 15 minutes. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = { maxFailuresPerEmail: 5, maxFailuresPerIp: 20, windowSeconds: 900 };

/** The email's bucket: normalised the way accounts compare emails, hashed so attempted addresses are not kept. */
export function emailBucket(email: string): string {
  return `email:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
}

/** The IP's bucket. IPv6 counts per /64: one subscriber usually holds a whole /64 (RFC 6177). */
export function ipBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped && isIPv4(mapped)) return `ip:${mapped}`;
  if (!isIPv6(ip)) return `ip:${ip}`;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `ip:${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export type Reservation =
  | { allowed: true; bucket: string; windowStartedAt: Date }
  | { allowed: false; bucket: string; retryAfterSeconds: number; lockedNow: boolean };

/**
 * Counts one attempt against the bucket before the password is checked, in one atomic statement, so
 * parallel guesses from several processes cannot slip past the limit. Over the limit the count stops
 * at limit + 2: limit + 1 marks the first refused attempt (`lockedNow`, for the audit trail), limit + 2 the later ones.
 */
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
  const windowStartedAt = new Date(row.window_started_at);
  if (row.failures <= limit) return { allowed: true, bucket, windowStartedAt };
  const endsAt = windowStartedAt.getTime() + windowSeconds * 1000;
  return { allowed: false, bucket, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)), lockedNow: row.failures === limit + 1 };
}

/** Gives back an attempt that turned out not to be a failure (a success, or one refused by another bucket). */
export async function releaseAttempt(db: Queryable, reservation: { bucket: string; windowStartedAt: Date }): Promise<void> {
  await db.query(
    'UPDATE login_throttle SET failures = failures - 1 WHERE bucket = $1 AND window_started_at = $2::timestamptz AND failures > 0',
    [reservation.bucket, reservation.windowStartedAt],
  );
}

/** Forgets a bucket's failures (a correct password for that email). */
export async function clearBucket(db: Queryable, bucket: string): Promise<void> {
  await db.query('DELETE FROM login_throttle WHERE bucket = $1', [bucket]);
}

/** The longest window LOGIN_THROTTLE_WINDOW_SECONDS allows: a bucket older than this has surely ended. */
export const MAX_THROTTLE_WINDOW_SECONDS = 24 * 3600;

/** Deletes buckets whose window has ended (they would be reset on their next use anyway). */
export async function purgeLoginThrottle(db: Queryable, windowSeconds = MAX_THROTTLE_WINDOW_SECONDS, now = new Date()): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM login_throttle WHERE window_started_at <= $1::timestamptz - $2::int * interval '1 second'`, [now, windowSeconds]);
  return rowCount;
}
