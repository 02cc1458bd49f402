// A fixed-window counter per bucket, shared between processes through a CounterStore. Hot limits
// (the token endpoint) decide from what this process knows and report to the store every `syncEvery`
// hits, off the request path; rare costly events (metadata fetches) count at the store before deciding.
import { log } from '../log.ts';
import type { CounterStore } from './counter-store.ts';

export type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface WindowCounterOptions {
  /** For log lines and metrics, e.g. 'token_ip'. */
  name: string;
  limit: number;
  windowSeconds: number;
  store: CounterStore;
  /** Report to the store after this many local hits on a bucket; 1 reports every hit. */
  syncEvery: number;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

interface Entry {
  windowStart: number;
  /** The store's total at the last report (our reported hits included). */
  known: number;
  /** Hits being reported right now. */
  inFlight: number;
  /** Hits not reported yet. */
  pending: number;
  syncing: Promise<void> | undefined;
}

// Buckets tracked per counter: past it, finished windows are swept; if still full, new buckets pass
// uncounted (a flood of distinct keys must not exhaust memory; the per-IP limit still applies).
const MAX_TRACKED_BUCKETS = 100_000;

export class WindowCounter {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: WindowCounterOptions) {
    this.now = options.now ?? Date.now;
  }

  get name(): string { return this.options.name; }

  /** Counts one hit and decides at once from local knowledge; a refused hit is not counted. */
  hit(bucket: string): Verdict {
    const entry = this.entry(bucket);
    if (!entry) return { allowed: true };
    if (this.count(entry) + 1 > this.options.limit) return this.refusal(entry);
    entry.pending += 1;
    if (entry.pending >= this.options.syncEvery) void this.sync(bucket, entry);
    return { allowed: true };
  }

  /** Decides without counting (is the bucket already over?). */
  peek(bucket: string): Verdict {
    const entry = this.entry(bucket);
    if (!entry || this.count(entry) < this.options.limit) return { allowed: true };
    return this.refusal(entry);
  }

  /** Counts one hit at the store and decides from its total: exact across processes, one round trip. */
  async hitShared(bucket: string): Promise<Verdict> {
    const entry = this.entry(bucket);
    if (!entry) return { allowed: true };
    if (this.count(entry) + 1 > this.options.limit) return this.refusal(entry);
    entry.pending += 1;
    while (entry.syncing) await entry.syncing;
    await this.sync(bucket, entry);
    return this.count(entry) > this.options.limit ? this.refusal(entry) : { allowed: true };
  }

  private windowStartNow(): number {
    const seconds = Math.floor(this.now() / 1000);
    return seconds - (seconds % this.options.windowSeconds);
  }

  private entry(bucket: string): Entry | undefined {
    const windowStart = this.windowStartNow();
    let entry = this.entries.get(bucket);
    if (entry && entry.windowStart === windowStart) return entry;
    if (!entry && this.entries.size >= MAX_TRACKED_BUCKETS) {
      for (const [key, old] of this.entries) if (old.windowStart !== windowStart && !old.syncing) this.entries.delete(key);
      if (this.entries.size >= MAX_TRACKED_BUCKETS) return undefined;
    }
    entry = { windowStart, known: 0, inFlight: 0, pending: 0, syncing: undefined };
    this.entries.set(bucket, entry);
    return entry;
  }

  private count(entry: Entry): number {
    return entry.known + entry.inFlight + entry.pending;
  }

  private refusal(entry: Entry): Verdict {
    const endsAt = entry.windowStart + this.options.windowSeconds;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(endsAt - this.now() / 1000)) };
  }

  private sync(bucket: string, entry: Entry): Promise<void> {
    if (entry.syncing || entry.pending === 0) return entry.syncing ?? Promise.resolve();
    const delta = entry.pending;
    entry.pending = 0;
    entry.inFlight = delta;
    entry.syncing = this.options.store.add([{ bucket, windowStart: entry.windowStart, delta }], this.options.windowSeconds)
      .then((totals) => { entry.known = totals.get(bucket) ?? entry.known + delta; entry.inFlight = 0; })
      .catch((error: unknown) => {
        // Fail open on this process's own count: a store outage must not lock everyone out.
        entry.known += delta;
        entry.inFlight = 0;
        log.warn('rate limit store unreachable; counting in this process only', { limit: this.options.name, error: String(error) });
      })
      .finally(() => {
        entry.syncing = undefined;
        // Hits that came while this report was in flight wait for it; without this follow-up they stayed in
        // this process until the bucket's next hit, so a burst's last hits could never reach the other processes.
        if (entry.pending >= this.options.syncEvery) void this.sync(bucket, entry);
      });
    return entry.syncing;
  }
}
