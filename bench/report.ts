// Formatting for the bench's output: per-round lines, and the final table with ratios and verdicts.
import type { RoundTripSnapshot } from '../src/db/counting-db.ts';
import { median, type RoundResult } from './stats.ts';

export const int = (value: number) => Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
export const ms = (value: number) => Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a';
export function roundLine(round: number, label: string, unit: string, result: RoundResult): string {
  // Percent of one core, so "server 100" is one core busy; the machine's capacity is cores × 100.
  const parts = [
    result.serverCpuMsPerS === undefined ? '' : `server ${Math.round(result.serverCpuMsPerS / 10)}`,
    result.generatorCpuMsPerS === undefined ? '' : `generator ${Math.round(result.generatorCpuMsPerS / 10)}`,
    result.postgresPct === undefined ? '' : `postgres ${Math.round(result.postgresPct)}`,
    result.machinePct === undefined ? '' : `machine ${Math.round(result.machinePct)}/${result.capacityPct}` +
      ` (other processes ~${Math.max(0, Math.round(result.machinePct - (result.serverCpuMsPerS ?? 0) / 10 -
        (result.generatorCpuMsPerS ?? 0) / 10 - (result.postgresPct ?? 0)))})`,
  ].filter(Boolean);
  const cpu = parts.length ? `  cpu%: ${parts.join(', ')}` : '';
  const errors = result.errors ? `  errors ${result.errors} (${result.firstError ?? ''})` : '';
  return `  round ${round}  ${label.padEnd(24)} ${int(result.rate).padStart(7)} ${unit.padEnd(9)}` +
    ` p50 ${ms(result.p50Ms).padStart(9)}  p99 ${ms(result.p99Ms).padStart(9)}${cpu}${errors}`;
}

/** Medians over rounds of one series. */
export function summarise(results: RoundResult[]) {
  return {
    rate: median(results.map((r) => r.rate)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** Median over rounds of subject ÷ (yardstick of the same round × scale). */
export function pairedRatio(subject: RoundResult[], yardstick: RoundResult[], scale = 1): number {
  return median(subject.map((s, i) => s.rate / ((yardstick[i]?.rate ?? Number.NaN) * scale)));
}

/**
 * Median over rounds of the yardstick's server CPU per operation ÷ the subject's in the same round: how much
 * of the yardstick's throughput the subject's own cost would allow if the server process were the only limit
 * (steadier than rates on a machine whose other processes take what they take).
 */
export function pairedCostRatio(subject: RoundResult[], yardstick: RoundResult[]): number {
  const perOperation = (r: RoundResult | undefined) => (r?.serverCpuMsPerS ?? Number.NaN) / (r?.rate ?? Number.NaN);
  return median(subject.map((s, i) => perOperation(yardstick[i]) / perOperation(s)));
}

export interface Row {
  figure: string;
  measured: string;
  yardstick: string;
  ratio: string;
  target: string;
  verdict: string;
}

export function table(rows: Row[]): string {
  const header: Row = { figure: 'Figure', measured: 'Measured (median)', yardstick: 'Yardstick (median)', ratio: 'Ratio', target: 'Target', verdict: 'Result' };
  const all = [header, ...rows];
  const keys = Object.keys(header) as (keyof Row)[];
  const widths = keys.map((key) => Math.max(...all.map((row) => row[key].length)));
  const line = (row: Row) => keys.map((key, i) => row[key].padEnd(widths[i]!)).join(' │ ');
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function roundTripRow(figure: string, snapshot: RoundTripSnapshot, budget: { read: number; consume: number; write: number }): Row {
  const within = snapshot.read <= budget.read && snapshot.consume <= budget.consume && snapshot.write <= budget.write
    && snapshot.other === 0 && snapshot.transactions === 0;
  const counts = `${snapshot.read} read + ${snapshot.consume} consume + ${snapshot.write} write` +
    (snapshot.other || snapshot.transactions ? ` + ${snapshot.other} other, ${snapshot.transactions} tx` : '');
  return {
    figure,
    measured: counts,
    yardstick: '',
    ratio: `${snapshot.total} round trips`,
    target: `≤ ${budget.read} + ${budget.consume} + ${budget.write}`,
    verdict: within ? 'WITHIN' : 'OVER',
  };
}

/** CPU milliseconds per operation (server process, PostgreSQL), medians over rounds: less noisy than rates. */
function costPerOperation(results: RoundResult[]) {
  return {
    server: median(results.map((r) => (r.serverCpuMsPerS ?? Number.NaN) / r.rate)),
    postgres: median(results.map((r) => ((r.postgresPct ?? Number.NaN) * 10) / r.rate)),
  };
}

export function costLine(label: string, results: RoundResult[]): string {
  const { server, postgres } = costPerOperation(results);
  const pg = Number.isFinite(postgres) && postgres > 0.005 ? `, postgres ${postgres.toFixed(2)} ms` : '';
  return `  ${label.padEnd(24)} server ${server.toFixed(2)} ms${pg}`;
}

/**
 * The most this machine could give `subject` if our server process cost no more per operation than the
 * yardstick's (oidc-provider in memory): its cores, divided by that CPU plus what PostgreSQL and the load
 * generator spent per operation of `subject`. A target above this ratio cannot be met here by any change
 * to our own code; only less database work per operation, or more cores, would move it.
 */
export function machineCeiling(subject: RoundResult[], yardstick: RoundResult[]) {
  const own = costPerOperation(subject);
  const generatorMs = median(subject.map((r) => (r.generatorCpuMsPerS ?? Number.NaN) / r.rate));
  const yardstickServerMs = costPerOperation(yardstick).server;
  const cores = median(subject.map((r) => (r.capacityPct ?? Number.NaN) / 100));
  const perOperationMs = yardstickServerMs + own.postgres + generatorMs;
  const rate = (cores * 1000) / perOperationMs;
  return { rate, ratio: rate / median(yardstick.map((r) => r.rate)), cores, yardstickServerMs, postgresMs: own.postgres, generatorMs };
}

/** The summary row for machineCeiling: whether `target` (a ratio to the yardstick) is within it. */
export function ceilingRow(figure: string, subject: RoundResult[], yardstick: RoundResult[], target: number, unit: string): Row {
  const c = machineCeiling(subject, yardstick);
  if (!Number.isFinite(c.rate)) return { figure, measured: 'no CPU readings (not Linux)', yardstick: '', ratio: '', target: '', verdict: '' };
  return {
    figure,
    measured: `${int(c.rate)} ${unit} at most: ${c.cores} cores ÷ (server ${c.yardstickServerMs.toFixed(2)} + PostgreSQL ${c.postgresMs.toFixed(2)} + load generator ${c.generatorMs.toFixed(2)} ms)`,
    yardstick: 'our server costing what the yardstick does',
    ratio: `${c.ratio.toFixed(2)}×`,
    target: `issue 17: ≥ ${target}×`,
    verdict: c.ratio >= target ? 'REACHABLE' : 'NOT HERE',
  };
}

/** What `subject` costs per operation beyond `baseline`, server process and PostgreSQL apart. */
export function costDifference(label: string, subject: RoundResult[], baseline: RoundResult[]): string {
  const a = costPerOperation(subject);
  const b = costPerOperation(baseline);
  const signed = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} ms`;
  return `  ${label.padEnd(24)} server ${signed(a.server - b.server)}, postgres ${signed(a.postgres - b.postgres)}`;
}
