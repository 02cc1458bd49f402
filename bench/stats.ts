// What one timed round of load produced, and the arithmetic on it: rates, percentiles, medians.

export interface RoundResult {
  /** Operations (requests, or whole flows) that succeeded. */
  completed: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  /** completed per second of elapsed time. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the load generator itself used, per second of the round (1000 = one core busy). */
  generatorCpuMsPerS?: number;
  /** CPU the server process used per second of the round, filled in by the orchestrator. */
  serverCpuMsPerS?: number;
  /** Percent of one core used by PostgreSQL's processes, and by the whole machine, over the round. */
  postgresPct?: number;
  machinePct?: number;
  capacityPct?: number;
}

export function percentile(sorted: Float64Array | number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] as number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Collects one round's latencies (ms) and errors, then summarises them. */
export class RoundRecorder {
  private durations = new Float64Array(1 << 16);
  private count = 0;
  errors = 0;
  firstError: string | undefined;

  record(ms: number): void {
    if (this.count === this.durations.length) {
      const grown = new Float64Array(this.durations.length * 2);
      grown.set(this.durations);
      this.durations = grown;
    }
    this.durations[this.count++] = ms;
  }

  fail(error: unknown): void {
    this.errors += 1;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }

  summary(elapsedMs: number): RoundResult {
    const sorted = this.durations.slice(0, this.count).sort();
    return {
      completed: this.count,
      errors: this.errors,
      ...(this.firstError ? { firstError: this.firstError.slice(0, 300) } : {}),
      elapsedMs,
      rate: (this.count * 1000) / elapsedMs,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
    };
  }
}
