// The bench's ceiling row: what a machine's cores allow once PostgreSQL and the load generator have
// taken their share of each operation, judged against a target ratio.
import { describe, expect, it } from 'vitest';
import { ceilingRow, machineCeiling } from '../../bench/report.ts';
import type { RoundResult } from '../../bench/stats.ts';

const round = (rate: number, serverMs: number, postgresMs: number, generatorMs: number): RoundResult => ({
  completed: rate * 5, errors: 0, elapsedMs: 5000, rate, p50Ms: 1, p99Ms: 2,
  serverCpuMsPerS: serverMs * rate, postgresPct: (postgresMs * rate) / 10, generatorCpuMsPerS: generatorMs * rate,
  machinePct: 180, capacityPct: 200,
});

describe('machine ceiling', () => {
  it('divides the cores by the yardstick server CPU plus our PostgreSQL and generator CPU per operation', () => {
    // Ours: 1.4 ms server, 0.7 ms PostgreSQL, 0.3 ms generator; yardstick: 0.4 ms server at 3,000/s.
    const ours = [round(800, 1.4, 0.7, 0.3), round(760, 1.4, 0.7, 0.3), round(780, 1.4, 0.7, 0.3)];
    const yardstick = [round(3000, 0.4, 0, 0.2), round(3000, 0.4, 0, 0.2), round(3000, 0.4, 0, 0.2)];
    const ceiling = machineCeiling(ours, yardstick);
    expect(ceiling.cores).toBe(2);
    expect(ceiling.rate).toBeCloseTo(2000 / 1.4, 6);
    expect(ceiling.ratio).toBeCloseTo(2000 / 1.4 / 3000, 6);
    const row = ceilingRow('ceiling', ours, yardstick, 0.6, 'grants/s');
    expect(row.ratio).toBe('0.48×');
    expect(row.verdict).toBe('NOT HERE');
    expect(ceilingRow('ceiling', ours, yardstick, 0.45, 'grants/s').verdict).toBe('REACHABLE');
  });

  it('says so when there were no CPU readings', () => {
    const bare = (rate: number): RoundResult => ({ completed: rate, errors: 0, elapsedMs: 1000, rate, p50Ms: 1, p99Ms: 2 });
    expect(ceilingRow('ceiling', [bare(10)], [bare(20)], 0.6, 'flows/s').measured).toBe('no CPU readings (not Linux)');
  });
});
