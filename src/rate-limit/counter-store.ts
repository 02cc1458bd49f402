// Where rate-limit counts are shared between server processes: PostgreSQL/PGlite (rate_limit_counters,
// migration 0007) or Redis. Both add a batch of increments and answer each bucket's total in its window.
import type { Queryable } from '../db/db.ts';

export interface Increment {
  bucket: string;
  /** Epoch seconds at which the bucket's fixed window began (aligned, so every process agrees). */
  windowStart: number;
  delta: number;
}

export interface CounterStore {
  /** Adds every increment (one round trip) and returns each bucket's total within its window. */
  add(increments: readonly Increment[], windowSeconds: number): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/**
 * Counts in the database. A row is one bucket's current window: an increment for a newer window
 * restarts it, one for an older window (a slow process) leaves it alone.
 */
export function databaseCounterStore(db: Queryable): CounterStore {
  return {
    async add(increments, windowSeconds) {
      if (increments.length === 0) return new Map();
      const { rows } = await db.query<{ bucket: string; hits: number }>(
        `INSERT INTO rate_limit_counters AS c (bucket, window_start, hits, expires_at)
         SELECT bucket, window_start, hits, window_start + $4::bigint
         FROM unnest($1::text[], $2::bigint[], $3::int[]) AS i (bucket, window_start, hits)
         ON CONFLICT (bucket) DO UPDATE SET
           hits = CASE WHEN EXCLUDED.window_start = c.window_start THEN c.hits + EXCLUDED.hits
                       WHEN EXCLUDED.window_start > c.window_start THEN EXCLUDED.hits ELSE c.hits END,
           window_start = greatest(c.window_start, EXCLUDED.window_start),
           expires_at = greatest(c.expires_at, EXCLUDED.expires_at)
         RETURNING bucket, hits`,
        [increments.map((i) => i.bucket), increments.map((i) => i.windowStart), increments.map((i) => i.delta), windowSeconds],
      );
      return new Map(rows.map((row) => [row.bucket, row.hits]));
    },
    async close() {},
  };
}

/** Deletes counters whose window has ended (the purge timer). */
export async function purgeRateLimitCounters(db: Queryable, now = new Date()): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM rate_limit_counters WHERE expires_at < $1::bigint', [Math.floor(now.getTime() / 1000)]);
  return rowCount;
}
