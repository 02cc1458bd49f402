// A short, bounded cache of introspection answers, keyed by the SHA-256 of the token: the raw token
// is never kept as a key, so a heap dump of the cache does not hand out working credentials.
import { createHash } from 'node:crypto';

// Enough for any one MCP server's live tokens; bounded so a flood of random tokens cannot grow memory.
const MAX_ENTRIES = 10_000;

export interface IntrospectionCache<T> {
  get(token: string): T | undefined;
  set(token: string, value: T, untilMs: number): void;
}

const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export function createIntrospectionCache<T>(ttlMs: number): IntrospectionCache<T> {
  const entries = new Map<string, { value: T; untilMs: number }>();
  return {
    get(token) {
      if (ttlMs === 0) return undefined;
      const key = keyOf(token);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.untilMs <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(token, value, untilMs) {
      if (ttlMs === 0) return;
      const until = Math.min(untilMs, Date.now() + ttlMs);
      if (until <= Date.now()) return;
      // Map keeps insertion order: the first key is the oldest entry.
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(keyOf(token), { value, untilMs: until });
    },
  };
}
