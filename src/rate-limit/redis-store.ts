// Rate-limit counts in Redis (REDIS_URL): one key per bucket and window, INCRBY'd and set to expire
// when the window ends, so nothing needs purging. All keys start with the configured prefix.
import { Redis } from 'ioredis';
import type { CounterStore } from './counter-store.ts';

export function redisCounterStore(url: string, keyPrefix: string): CounterStore & { redis: Redis } {
  // Commands wait for the first connection (the offline queue) but never more than a second, with one
  // retry: a Redis outage makes the limiter fail open quickly. Token requests never wait for Redis anyway
  // (window-counter.ts reports off the request path); metadata fetches wait at most this second.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  // Without a listener, a connection error is an uncaught 'error' event; ioredis reconnects by itself.
  redis.on('error', () => {});
  return {
    redis,
    async add(increments, windowSeconds) {
      if (increments.length === 0) return new Map();
      const pipeline = redis.pipeline();
      for (const { bucket, windowStart, delta } of increments) {
        const key = `${keyPrefix}${bucket}:${windowStart}`;
        pipeline.incrby(key, delta);
        // A second past the window's end, so a late increment still finds its key.
        pipeline.expireat(key, windowStart + windowSeconds + 1);
      }
      const results = (await pipeline.exec()) ?? [];
      const totals = new Map<string, number>();
      increments.forEach(({ bucket }, index) => {
        const [error, value] = results[index * 2] ?? [new Error('no reply')];
        if (error) throw error;
        totals.set(bucket, Number(value));
      });
      return totals;
    },
    async close() {
      redis.disconnect();
    },
  };
}
