// Refresh throughput from one to two server processes of one deployment on one PostgreSQL (issue 17):
// the second process shares the first one's schema, issuer and client, and the load generator spreads its
// users over both. With taskset, also one process pinned to one core beside two pinned to one core each,
// what a machine with a core per process would give (the load generator and PostgreSQL stay unpinned).
import { cpus } from 'node:os';
import { allCpus, canPin, pin } from './cpu-pinning.ts';
import { costLine, int, ms, pairedRatio, summarise, type Row } from './report.ts';
import { startPortcullis, together, type BenchSeries, type ServerBenchDeps } from './server-bench-deps.ts';
import type { RoundResult } from './stats.ts';

export async function runScalingBench(deps: ServerBenchDeps): Promise<Row[]> {
  const schema = deps.newSchema();
  const first = await startPortcullis(deps, 'portcullis, process 1', { BENCH_SCHEMA: schema });
  const second = await startPortcullis(deps, 'portcullis, process 2',
    { BENCH_SCHEMA: schema, BENCH_SHARED_SCHEMA: '1', BENCH_ISSUER: first.issuer }, {}, first.target.clientId);
  try {
    await deps.load.call('prepareRefresh', { target: first.target, chains: deps.concurrency, name: 'scaling' });
    const both = together('portcullis, 2 processes', [first.server, second.server]);
    const refresh = (ports: number[]) => (durationMs: number) => deps.load.call<RoundResult>('refresh',
      { timing: { concurrency: deps.concurrency, durationMs }, chains: 'scaling', ports });
    const pinning = canPin();
    const placement = (a: string, b: string) => async () => {
      if (!pinning) return;
      pin(first.server.pid, a);
      pin(second.server.pid, b);
    };
    const series: BenchSeries[] = [
      { label: 'refresh, 1 process', unit: 'grants/s', server: first.server, run: refresh([first.target.port]), prepare: placement(allCpus(), allCpus()) },
      { label: 'refresh, 2 processes', unit: 'grants/s', server: both, run: refresh([first.target.port, second.target.port]), prepare: placement(allCpus(), allCpus()) },
      ...(pinning ? [
        { label: '1 process on core 0', unit: 'grants/s', server: first.server, run: refresh([first.target.port]), prepare: placement('0', allCpus()) },
        { label: '2 processes, cores 0, 1', unit: 'grants/s', server: both, run: refresh([first.target.port, second.target.port]), prepare: placement('0', '1') },
      ] : []),
    ];
    const [one, two, onePinned, twoPinned] = await deps.alternate(
      `Refresh grants from one to two server processes on one PostgreSQL (${cpus().length} cores), concurrency ${deps.concurrency}:`, series);
    await placement(allCpus(), allCpus())();

    console.log('\nCPU per operation (medians over rounds; two processes added up):');
    for (const [i, results] of [one, two, onePinned, twoPinned].entries()) if (results) console.log(costLine(series[i]!.label, results));
    const ratio = pairedRatio(two!, one!);
    const s1 = summarise(one!);
    const s2 = summarise(two!);
    console.log(`  two processes ÷ one: ${ratio.toFixed(2)}×. On ${cpus().length} cores it cannot scale: the load generator and PostgreSQL `
      + 'use the cores a second server process would need. A ratio above 1 here means the cores had idle time, or, when other '
      + 'processes keep the machine busy ("other processes" above), that two processes win a larger share of it.');
    if (!pinning) console.log('  CPU pinning (taskset) is not available here: no pinned figures.');
    const rows: Row[] = [{
      figure: 'refresh grants/s, 2 server processes, one PostgreSQL', measured: `${int(s2.rate)}/s, p99 ${ms(s2.p99Ms)}`,
      yardstick: `1 process ${int(s1.rate)}/s`, ratio: `${ratio.toFixed(2)}×`, target: `reported (${cpus().length} cores)`, verdict: '',
    }];
    if (onePinned && twoPinned) {
      const p1 = summarise(onePinned);
      const p2 = summarise(twoPinned);
      rows.push({
        figure: 'refresh grants/s, 2 processes on a core each (taskset)', measured: `${int(p2.rate)}/s, p99 ${ms(p2.p99Ms)}`,
        yardstick: `1 process on 1 core ${int(p1.rate)}/s`, ratio: `${pairedRatio(twoPinned, onePinned).toFixed(2)}×`, target: 'reported', verdict: '',
      });
    }
    return rows;
  } finally {
    await Promise.all([first.server.stop(), second.server.stop()]);
  }
}
