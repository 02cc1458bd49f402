// Password sign-in for every sign-in form (the authorization flow's, /account's, the console's): the service
// they call (signIn: audited, coded refusals with the words shown) over the throttled check (signInWithPassword:
// per-email and per-IP failure limits before the password; the answer never says which emails exist).
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import type { Account, SignInForm } from './schema.ts';
import { authenticateAccount } from './store.ts';
import { withPasswordCheckSlot } from './password.ts';
import { emailBucket, ipBucket, type LoginThrottle } from './login-throttle.ts';
import { ssoOnlyDomainOf, ssoOnlyMessage } from './sso-only.ts';

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
      type: 'login.throttled', outcome: 'failure', actor: { type: 'user' }, clientId: attempt.clientId, ip: attempt.ip,
      userAgent: attempt.userAgent, requestId: attempt.requestId,
      details: { limited_by: limitedBy, retry_after_seconds: reservation.retryAfterSeconds },
    });
  }
  return { ok: false, reason: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
}

/** Which form a sign-in came through: the authorization flow's (for a client), /account's, or the console's. */
export type SignInPurpose = { via: 'authorization'; clientId: string } | { via: 'account' } | { via: 'admin' };

/** What the sign-in service works with: the database and the operator's limits with their store. */
export interface SignInDeps { db: Db; loginThrottle: LoginThrottle }

/** The request behind a sign-in, for its audit events. */
export type SignInRequest = Pick<SignInAttempt, 'ip' | 'userAgent' | 'requestId'>;

export const BAD_CREDENTIALS_MESSAGE = 'That email and password do not match an account. Check them and try again.';

/** The words of a throttled refusal: how long to wait, in whole minutes (the same whether or not the email has an account). */
export function throttledMessage(retryAfterSeconds: number): string {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Too many sign-in attempts. Wait ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}, then try again.`;
}

/**
 * Signs in through one of the forms, or throws the refusal it shows: `rate_limited` (429 with Retry-After,
 * RFC 6585 §4), `bad_credentials` (401), `sso_only` (403: the email's domain signs in only through its identity provider), or for the console `not_admin` (403: the right password of an account
 * that is no administrator, so no session is started). Every outcome is on the record, the person its actor;
 * the authorization flow's events name the client and no `via` (they always did). Front ends parse `form` with
 * signInFormSchema (schema.ts) first, so they keep the email to show again.
 */
export async function signIn(
  deps: SignInDeps, form: SignInForm, request: SignInRequest, purpose: SignInPurpose,
): Promise<Account> {
  const { db } = deps;
  const clientId = purpose.via === 'authorization' ? purpose.clientId : undefined;
  const via = purpose.via === 'authorization' ? {} : { via: purpose.via };
  // Before the password is looked at: an SSO-only domain has no password sign-in at all (issue 12).
  const sso = form.email ? await ssoOnlyDomainOf(db, form.email) : undefined;
  if (sso) {
    await recordAuditEvent(db, {
      type: 'login.failed', outcome: 'failure', actor: { type: 'user' }, clientId, ...request,
      details: { reason: 'sso_only', provider: sso.providerName, domain: sso.domain, ...via },
    });
    throw new AppError('sso_only', ssoOnlyMessage(sso));
  }
  const result = await signInWithPassword(db, { ...form, ...request, clientId }, deps.loginThrottle);
  if (!result.ok && result.reason === 'throttled') {
    throw new AppError('rate_limited', throttledMessage(result.retryAfterSeconds), { retryAfterSeconds: result.retryAfterSeconds });
  }
  if (!result.ok) {
    await recordAuditEvent(db, {
      type: 'login.failed', outcome: 'failure', actor: { type: 'user' }, clientId, ...request, details: { reason: 'bad_credentials', ...via },
    });
    throw new AppError('bad_credentials', BAD_CREDENTIALS_MESSAGE);
  }
  const { account } = result;
  const person = { type: 'user', id: account.id } as const;
  if (purpose.via === 'admin' && !account.isAdmin) {
    // Right password, wrong person: no session is started, and the attempt is on the record.
    await recordAuditEvent(db, {
      type: 'admin.action', outcome: 'failure', actor: person, accountId: account.id, ...request,
      details: { action: 'console.sign_in', reason: 'not_admin' },
    });
    throw new AppError('not_admin', 'This sign-in is for the administrators of this server.');
  }
  await recordAuditEvent(db, { type: 'login.succeeded', actor: person, accountId: account.id, clientId, ...request, details: via });
  return account;
}
