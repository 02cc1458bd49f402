// The rate limits of the token endpoint (per client IP, per client) and of metadata-document fetches
// (per document host, per requesting IP), their store (database or Redis), and the OAuth 429 they give;
// and the stores of the sign-in and registration limits (throttle-stores.ts), on the same Redis connection.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { errors } from 'oidc-provider';
import type { Queryable } from '../db/db.ts';
import { ipBucket } from '../accounts/login-throttle.ts';
import { databaseCounterStore, type CounterStore } from './counter-store.ts';
import { redisCounterStore } from './redis-store.ts';
import { createThrottleStores, type ThrottleStores } from './throttle-stores.ts';
import { WindowCounter, type Verdict } from './window-counter.ts';

export interface RateLimitConfig {
  tokenMaxPerIp: number;
  tokenMaxPerClient: number;
  tokenWindowSeconds: number;
  authMaxPerIp: number;
  authWindowSeconds: number;
  authMaxPendingInteractions: number;
  cimdFetchMaxPerHost: number;
  cimdFetchMaxPerHostPerIp: number;
  cimdFetchMaxPerIp: number;
  cimdFetchWindowSeconds: number;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  tokenMaxPerIp: 600, tokenMaxPerClient: 3000, tokenWindowSeconds: 60,
  authMaxPerIp: 300, authWindowSeconds: 60, authMaxPendingInteractions: 50_000,
  cimdFetchMaxPerHost: 100, cimdFetchMaxPerHostPerIp: 10, cimdFetchMaxPerIp: 30, cimdFetchWindowSeconds: 60,
  redisUrl: undefined, redisKeyPrefix: 'portcullis:rl:',
};

export interface RateLimits extends ThrottleStores {
  tokenByIp: WindowCounter;
  tokenByClient: WindowCounter;
  /** Sign-ins started at /auth (new Interaction rows) per client IP. */
  authByIp: WindowCounter;
  cimdFetchByHost: WindowCounter;
  cimdFetchByHostAndIp: WindowCounter;
  cimdFetchByIp: WindowCounter;
  /** The limits these counters were built with. */
  config: RateLimitConfig;
  /** 'redis' or 'database': where counts are shared. */
  backend: 'redis' | 'database';
  /** Called with the limit's name on every refusal (metrics). */
  onRefused: ((limit: string) => void) | undefined;
  close(): Promise<void>;
}

// The token endpoint's counters report to the shared store every tenth of their limit: no round trip
// on the request path, and with N processes a bucket can pass its limit by at most N tenths of it.
const SYNC_FRACTION = 0.1;

export function createRateLimits(config: RateLimitConfig, db: Queryable): RateLimits {
  const redisStore = config.redisUrl ? redisCounterStore(config.redisUrl, config.redisKeyPrefix) : undefined;
  const store: CounterStore = redisStore ?? databaseCounterStore(db);
  const batched = (name: string, limit: number, windowSeconds: number) =>
    new WindowCounter({ name, limit, windowSeconds, store, syncEvery: Math.max(1, Math.ceil(limit * SYNC_FRACTION)) });
  const exact = (name: string, limit: number, windowSeconds: number) =>
    new WindowCounter({ name, limit, windowSeconds, store, syncEvery: 1 });
  return {
    tokenByIp: batched('token_ip', config.tokenMaxPerIp, config.tokenWindowSeconds),
    tokenByClient: batched('token_client', config.tokenMaxPerClient, config.tokenWindowSeconds),
    authByIp: batched('auth_ip', config.authMaxPerIp, config.authWindowSeconds),
    cimdFetchByHost: exact('cimd_fetch_host', config.cimdFetchMaxPerHost, config.cimdFetchWindowSeconds),
    cimdFetchByHostAndIp: exact('cimd_fetch_host_ip', config.cimdFetchMaxPerHostPerIp, config.cimdFetchWindowSeconds),
    cimdFetchByIp: exact('cimd_fetch_ip', config.cimdFetchMaxPerIp, config.cimdFetchWindowSeconds),
    ...createThrottleStores(db, redisStore?.redis, config.redisKeyPrefix),
    config,
    backend: config.redisUrl ? 'redis' : 'database',
    onRefused: undefined,
    close: () => store.close(),
  };
}

/** Bucket names: the limit, then the subject; long client_ids (metadata-document URLs) are hashed. */
export const ipKey = (limit: string, ip: string) => `${limit}:${ipBucket(ip)}`;
export const subjectKey = (limit: string, subject: string) =>
  `${limit}:${subject.length <= 200 ? subject : createHash('sha256').update(subject).digest('base64url')}`;

export const rateLimitDescription = (what: string, verdict: Extract<Verdict, { allowed: false }>) =>
  `too many ${what}; try again in ${verdict.retryAfterSeconds} seconds`;

/** The 429 inside oidc-provider's own routes: its error handler renders it as OAuth JSON or the error page. */
export class RateLimitedError extends errors.OIDCProviderError {
  constructor(description: string) {
    super(429, 'temporarily_unavailable');
    (this as unknown as { error_description: string }).error_description = description;
    // Never redirect a refusal to the client: the rate limit may be about the client itself.
    (this as unknown as { allow_redirect: boolean }).allow_redirect = false;
  }
}

/** Sets Retry-After and throws the 429 (oidc-provider's routes), after counting the refusal. */
export function throwRateLimited(ctx: Koa.Context | undefined, limits: RateLimits, counter: WindowCounter, verdict: Extract<Verdict, { allowed: false }>, what: string): never {
  limits.onRefused?.(counter.name);
  ctx?.set('Retry-After', String(verdict.retryAfterSeconds));
  throw new RateLimitedError(rateLimitDescription(what, verdict));
}
