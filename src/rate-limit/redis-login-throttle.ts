// Failed sign-ins counted in Redis (REDIS_URL): one hash per bucket (failures, window start in epoch
// milliseconds), changed by one Lua script per operation and expiring when its window ends.
import type { Redis } from 'ioredis';
import { reservationOf, type LoginAttemptStore } from '../accounts/login-throttle.ts';

// The same rules as login-throttle-sql.ts's statement: a bucket past its window (or none) restarts at 1
// with the caller's clock as its start; a locked bucket stays at limit + 2. The key lives as long as the
// window has left by the caller's clock (PEXPIRE, not PEXPIREAT), so a clock difference between this
// process and Redis cannot end a lock early.
const RESERVE = `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'failures', 'started')
local failures, started = tonumber(state[1]), state[2]
if not failures or not tonumber(started) or tonumber(started) <= now - window then
  failures, started = 1, ARGV[1]
elseif failures > limit then
  failures = limit + 2
else
  failures = failures + 1
end
redis.call('HSET', KEYS[1], 'failures', failures, 'started', started)
redis.call('PEXPIRE', KEYS[1], tonumber(started) + window - now)
return {failures, started}`;

// Only the reservation's own window (its start, compared as the stored string) and never below zero.
const RELEASE = `
local state = redis.call('HMGET', KEYS[1], 'failures', 'started')
if state[2] == ARGV[1] and tonumber(state[1]) and tonumber(state[1]) > 0 then
  redis.call('HINCRBY', KEYS[1], 'failures', -1)
end
return 0`;

export function redisLoginAttempts(redis: Redis, keyPrefix: string): LoginAttemptStore {
  const keyOf = (bucket: string) => `${keyPrefix}login:${bucket}`;
  return {
    async reserveAttempt(bucket, limit, windowSeconds, now) {
      const [failures, started] = await redis.eval(RESERVE, 1, keyOf(bucket), now.getTime(), windowSeconds * 1000, limit) as [number, string];
      return reservationOf(bucket, Number(failures), new Date(Number(started)), limit, windowSeconds, now);
    },
    async releaseAttempt({ bucket, windowStartedAt }) {
      await redis.eval(RELEASE, 1, keyOf(bucket), windowStartedAt.getTime());
    },
    async clearBucket(bucket) {
      await redis.del(keyOf(bucket));
    },
  };
}
