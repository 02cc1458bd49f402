// What sign-in throttling counts and how: the policy, the bucket names (an email, an IP) every store
// shares, and the store contract. The database store is login-throttle-sql.ts; Redis is src/rate-limit/.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { normaliseEmail } from '../input/email.ts';

export interface LoginThrottlePolicy {
  maxFailuresPerEmail: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  /** Password checks running at once in one process; past it, sign-ins are refused with Retry-After: 1. */
  maxConcurrentPasswordChecks: number;
}

/** OWASP Authentication Cheat Sheet-style defaults: 5 per email, 20 per IP, per 15 minutes. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = { maxFailuresPerEmail: 5, maxFailuresPerIp: 20, windowSeconds: 900, maxConcurrentPasswordChecks: 8 };

/** The longest window LOGIN_THROTTLE_WINDOW_SECONDS allows: a bucket older than this has surely ended. */
export const MAX_THROTTLE_WINDOW_SECONDS = 24 * 3600;

/** The email's bucket: normalised as accounts are looked up (src/input/email.ts), hashed so attempted addresses are not kept. */
export function emailBucket(email: string): string {
  return `email:${createHash('sha256').update(normaliseEmail(email)).digest('hex')}`;
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
 * Where failed sign-ins are counted, shared by every server process. Every store keeps the same rules:
 * a fixed window opens at a bucket's first counted attempt; past the limit the bucket is locked until
 * that window ends.
 */
export interface LoginAttemptStore {
  /**
   * Counts one attempt before the password is checked, atomically, so parallel guesses from several
   * processes cannot slip past the limit. Over the limit the count stops at limit + 2: limit + 1 marks
   * the first refused attempt (`lockedNow`, for the audit trail), limit + 2 the later ones.
   */
  reserveAttempt(bucket: string, limit: number, windowSeconds: number, now: Date): Promise<Reservation>;
  /** Gives back an attempt that turned out not to be a failure (a success, or one refused by another bucket); only within its window. */
  releaseAttempt(reservation: { bucket: string; windowStartedAt: Date }): Promise<void>;
  /** Forgets a bucket's failures (a correct password for that email). */
  clearBucket(bucket: string): Promise<void>;
}

/** The operator's limits and the store that enforces them: what every sign-in form is given. */
export interface LoginThrottle {
  policy: LoginThrottlePolicy;
  attempts: LoginAttemptStore;
}

/** The verdict on a bucket's count after a reservation, the same for every store; Retry-After runs to the window's end (at least 1). */
export function reservationOf(bucket: string, failures: number, windowStartedAt: Date, limit: number, windowSeconds: number, now: Date): Reservation {
  if (failures <= limit) return { allowed: true, bucket, windowStartedAt };
  const endsAt = windowStartedAt.getTime() + windowSeconds * 1000;
  return { allowed: false, bucket, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)), lockedNow: failures === limit + 1 };
}
