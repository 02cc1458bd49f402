// The `jti` replay cache for DPoP proofs (RFC 9449 §11.1): bounded and in memory by default, pluggable so
// several processes behind one resource can share one store (a proof replayed to a sibling is still a replay).

/** Where seen proof `jti`s are remembered. Implement it over a shared store to run several processes. */
export interface DpopReplayStore {
  /**
   * Records `key` until `expiresAtMs`; resolves true when it was new, false when it was already seen.
   * Must be atomic (check-and-set): two concurrent uses of one proof must not both see true.
   */
  remember(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

/**
 * The default store: a Map bounded to `maxEntries` (default 100 000). When full it drops expired entries,
 * and if none expired, refuses new proofs rather than forgetting live ones (forgetting would allow a replay).
 */
export function createMemoryDpopReplayStore(options: { maxEntries?: number; now?: () => number } = {}): DpopReplayStore {
  const maxEntries = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  return {
    remember(key, expiresAtMs) {
      const at = now();
      const known = seen.get(key);
      if (known !== undefined && known > at) return false;
      if (seen.size >= maxEntries) {
        for (const [entry, expiry] of seen) if (expiry <= at) seen.delete(entry);
        if (seen.size >= maxEntries) return false;
      }
      seen.set(key, expiresAtMs);
      return true;
    },
  };
}
