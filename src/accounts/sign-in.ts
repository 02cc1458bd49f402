// Password sign-in with throttling, for every sign-in form (the authorization flow's and /account's):
// per-email and per-IP failure limits are checked before the password, and the answer never says which emails exist.
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import type { Account } from './schema.ts';
import { authenticateAccount } from './store.ts';
import { withPasswordCheckSlot } from './password.ts';
import { emailBucket, ipBucket, type LoginThrottle } from './login-throttle.ts';

export interface SignInAttempt {
  email: string;
  password: string;
  ip: string;
  /** For the `login.throttled` audit event. */
  clientId?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

/** A check refused because too many run at once is worth retrying almost at once. */
const BUSY_RETRY_AFTER_SECONDS = 1;

export type SignInResult =
  | { ok: true; account: Account }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * Signs in with email and password. Throttled requests are refused before the password is checked,
 * for known and unknown emails alike. `throttle` is the operator's limits and the app's store (the
 * database, or Redis with REDIS_URL): required, so no sign-in form can silently run on other limits or
 * another count than the configured ones.
 */
export async function signInWithPassword(db: Db, attempt: SignInAttempt, throttle: LoginThrottle, now = new Date()): Promise<SignInResult> {
  if (!attempt.email || !attempt.password) return { ok: false, reason: 'bad_credentials' };
  // Too many checks running in this process: refused before anything is counted or hashed, in microseconds.
  const result = await withPasswordCheckSlot(throttle.policy.maxConcurrentPasswordChecks, () => checkThrottledPassword(db, attempt, throttle, now));
  return result ?? { ok: false, reason: 'throttled', retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS };
}

async function checkThrottledPassword(db: Db, attempt: SignInAttempt, { policy, attempts }: LoginThrottle, now: Date): Promise<SignInResult> {
  const ip = await attempts.reserveAttempt(ipBucket(attempt.ip), policy.maxFailuresPerIp, policy.windowSeconds, now);
  if (!ip.allowed) return refuse(db, attempt, ip, 'ip');
  const email = await attempts.reserveAttempt(emailBucket(attempt.email), policy.maxFailuresPerEmail, policy.windowSeconds, now);
  if (!email.allowed) {
    await attempts.releaseAttempt(ip);
    return refuse(db, attempt, email, 'email');
  }
  const account = await authenticateAccount(db, attempt.email, attempt.password);
  if (!account) return { ok: false, reason: 'bad_credentials' };
  // Success: the email starts afresh, and this attempt was no failure of the IP's.
  await attempts.clearBucket(email.bucket);
  await attempts.releaseAttempt(ip);
  return { ok: true, account };
}

async function refuse(
  db: Db, attempt: SignInAttempt, reservation: { retryAfterSeconds: number; lockedNow: boolean }, limitedBy: 'email' | 'ip',
): Promise<SignInResult> {
  // One event when a lock begins, not one per refused request: a flood of refused guesses costs
  // the attacker nothing, and must not be able to flood the audit trail either.
  if (reservation.lockedNow) {
    await recordAuditEvent(db, {
      type: 'login.throttled', outcome: 'failure', clientId: attempt.clientId, ip: attempt.ip,
      userAgent: attempt.userAgent, requestId: attempt.requestId,
      details: { limited_by: limitedBy, retry_after_seconds: reservation.retryAfterSeconds },
    });
  }
  return { ok: false, reason: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
}
