// What the per-IP limit on dynamic client registration counts and how: the limit, the verdict and the
// store contract. The database store is registration-rate-sql.ts; Redis is src/rate-limit/.

export interface RegistrationRateLimit {
  maxPerIp: number;
  windowSeconds: number;
}

export type RegistrationAllowance = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** The longest window REGISTRATION_RATE_WINDOW_SECONDS allows: a bucket older than this has surely ended. */
export const MAX_REGISTRATION_WINDOW_SECONDS = 24 * 3600;

/**
 * Where registrations are counted, shared by every server process. A fixed window opens at a bucket's
 * first registration; past the limit, requests wait for its end.
 */
export interface RegistrationAttemptStore {
  /**
   * Counts one registration attempt against the bucket, atomically (concurrent requests in several
   * processes cannot slip past the limit). Every attempt counts, refused ones too: each costs us work,
   * and a flood of bad requests is as unwelcome as a flood of good ones. Over the limit the count stops
   * growing (at limit + 1), so a client that keeps hammering still gets in when the window ends.
   */
  countRegistrationAttempt(bucket: string, limit: RegistrationRateLimit, now?: Date): Promise<RegistrationAllowance>;
}

/** The verdict on a bucket's count, the same for every store; Retry-After runs to the window's end (at least 1). */
export function allowanceOf(registrations: number, windowStartedAt: Date, limit: RegistrationRateLimit, now: Date): RegistrationAllowance {
  if (registrations <= limit.maxPerIp) return { allowed: true };
  const endsAt = windowStartedAt.getTime() + limit.windowSeconds * 1000;
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)) };
}
