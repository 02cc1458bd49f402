// Where the sign-in and registration limits count: the database, or Redis when REDIS_URL is set. While
// Redis cannot be reached, each operation falls back to the database for that request and says so in the log.
import type { Redis } from 'ioredis';
import type { Queryable } from '../db/db.ts';
import { log } from '../log.ts';
import type { LoginAttemptStore } from '../accounts/login-throttle.ts';
import { databaseLoginAttempts } from '../accounts/login-throttle-sql.ts';
import type { RegistrationAttemptStore } from '../clients/registration-rate-limit.ts';
import { databaseRegistrationAttempts } from '../clients/registration-rate-sql.ts';
import { redisLoginAttempts } from './redis-login-throttle.ts';
import { redisRegistrationAttempts } from './redis-registration-rate.ts';

export interface ThrottleStores {
  loginAttempts: LoginAttemptStore;
  registrationAttempts: RegistrationAttemptStore;
}

// One warning per limiter per minute: an outage must be visible without one log line per sign-in.
const WARN_EVERY_MS = 60_000;

export function createThrottleStores(db: Queryable, redis: Redis | undefined, keyPrefix: string): ThrottleStores {
  const database = { loginAttempts: databaseLoginAttempts(db), registrationAttempts: databaseRegistrationAttempts(db) };
  if (!redis) return database;
  const login = withDatabaseFallback(redis, 'login');
  const registration = withDatabaseFallback(redis, 'registration');
  const inRedis = { loginAttempts: redisLoginAttempts(redis, keyPrefix), registrationAttempts: redisRegistrationAttempts(redis, keyPrefix) };
  // A reservation made in the database while Redis was away is given back there, not in Redis.
  const reservedInDatabase = new WeakSet<object>();
  return {
    loginAttempts: {
      reserveAttempt: (...args) => login(
        () => inRedis.loginAttempts.reserveAttempt(...args),
        async () => {
          const reservation = await database.loginAttempts.reserveAttempt(...args);
          reservedInDatabase.add(reservation);
          return reservation;
        },
      ),
      releaseAttempt: (reservation) => (reservedInDatabase.has(reservation)
        ? database.loginAttempts.releaseAttempt(reservation)
        : login(() => inRedis.loginAttempts.releaseAttempt(reservation), () => database.loginAttempts.releaseAttempt(reservation))),
      clearBucket: (bucket) => login(() => inRedis.loginAttempts.clearBucket(bucket), () => database.loginAttempts.clearBucket(bucket)),
    },
    registrationAttempts: {
      countRegistrationAttempt: (...args) => registration(
        () => inRedis.registrationAttempts.countRegistrationAttempt(...args),
        () => database.registrationAttempts.countRegistrationAttempt(...args),
      ),
    },
  };
}

/**
 * Runs an operation in Redis, or in the database when Redis is known to be down or fails (ioredis gives
 * up within a second: redis-store.ts). Why not fail closed: a Redis outage would lock everyone out of
 * signing in. Why not fail open: a guesser would get unlimited tries for as long as the outage lasts.
 * The database count is exact across processes too; but it does not see what Redis counted before the
 * outage, so while the outage lasts a bucket can get up to twice its limit in one window.
 */
function withDatabaseFallback(redis: Redis, limiter: string) {
  let lastWarningAt = 0;
  let fallbacksSinceWarning = 0;
  const warn = (error: unknown) => {
    fallbacksSinceWarning += 1;
    if (Date.now() - lastWarningAt < WARN_EVERY_MS) return;
    log.warn('rate limit Redis unreachable; counting in the database', { limit: limiter, fallbacks: fallbacksSinceWarning, error: String(error) });
    lastWarningAt = Date.now();
    fallbacksSinceWarning = 0;
  };
  return async <T>(inRedis: () => Promise<T>, inDatabase: () => Promise<T>): Promise<T> => {
    // Between reconnection attempts the connection is known to be down: no need to wait for a timeout.
    if (redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end') {
      warn(`connection ${redis.status}`);
      return inDatabase();
    }
    try {
      return await inRedis();
    } catch (error) {
      warn(error);
      return inDatabase();
    }
  };
}
