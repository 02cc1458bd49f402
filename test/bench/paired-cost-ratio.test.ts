// The bench's CPU pairing (pairedCostRatio): each round's yardstick CPU per operation over the subject's,
// the median of those, so a round where the whole machine ran slow weighs on both sides of its own ratio.
import { describe, expect, it } from 'vitest';
import { pairedCostRatio } from '../../bench/report.ts';
import type { RoundResult } from '../../bench/stats.ts';

const round = (rate: number, serverMsPerOperation: number): RoundResult => ({
  completed: rate * 5, errors: 0, elapsedMs: 5000, rate, p50Ms: 1, p99Ms: 2, serverCpuMsPerS: serverMsPerOperation * rate,
});

describe('pairedCostRatio', () => {
  it('pairs rounds by index and takes the median of yardstick ÷ subject CPU per operation', () => {
    // Round 2 ran on a machine a third slower for both: its ratio stays that of the code.
    const subject = [round(900, 1.0), round(600, 1.5), round(1000, 0.8)];
    const yardstick = [round(1000, 0.9), round(700, 1.35), round(1100, 0.8)];
    expect(pairedCostRatio(subject, yardstick)).toBeCloseTo(0.9, 6);
  });

  it('is not a number without CPU readings, so no row can pass on missing data', () => {
    const bare = { completed: 10, errors: 0, elapsedMs: 1000, rate: 10, p50Ms: 1, p99Ms: 2 };
    expect(Number.isNaN(pairedCostRatio([bare], [bare]))).toBe(true);
  });
});
