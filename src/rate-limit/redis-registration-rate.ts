// Dynamic client registrations per IP counted in Redis (REDIS_URL): one hash per bucket (count, window
// start in epoch milliseconds), changed by one Lua script and expiring when its window ends.
import type { Redis } from 'ioredis';
import { allowanceOf, type RegistrationAttemptStore } from '../clients/registration-rate-limit.ts';

// The same rules as registration-rate-sql.ts's statement: a bucket past its window (or none) restarts
// at 1 with the caller's clock as its start; otherwise the count grows up to limit + 1 and stops, so a
// client that keeps hammering gets in when the window ends. The key lives as long as the window has left.
const COUNT = `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'registrations', 'started')
local registrations, started = tonumber(state[1]), state[2]
if not registrations or not tonumber(started) or tonumber(started) <= now - window then
  registrations, started = 1, ARGV[1]
else
  registrations = math.min(registrations + 1, limit + 1)
end
redis.call('HSET', KEYS[1], 'registrations', registrations, 'started', started)
redis.call('PEXPIRE', KEYS[1], tonumber(started) + window - now)
return {registrations, started}`;

export function redisRegistrationAttempts(redis: Redis, keyPrefix: string): RegistrationAttemptStore {
  return {
    async countRegistrationAttempt(bucket, limit, now = new Date()) {
      const [registrations, started] = await redis.eval(
        COUNT, 1, `${keyPrefix}registration:${bucket}`, now.getTime(), limit.windowSeconds * 1000, limit.maxPerIp) as [number, string];
      return allowanceOf(Number(registrations), new Date(Number(started)), limit, now);
    },
  };
}
