// The default log level (info: one access-log line per request) beside LOG_LEVEL=warn (issue 17, target
// ≥ 0.95×): the same server started twice, each writing its stdout to a file as under a process manager,
// the refresh grant workload alternated between them.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costLine, int, ms, pairedCostRatio, pairedRatio, summarise, type Row } from './report.ts';
import { startPortcullis, type ServerBenchDeps } from './server-bench-deps.ts';
import type { RoundResult } from './stats.ts';

const TARGET = 0.95;

export async function runLogLevelBench(deps: ServerBenchDeps): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-log-'));
  try {
    const files = { info: join(dir, 'default.log'), warn: join(dir, 'warn.log') };
    const fds = { info: openSync(files.info, 'a'), warn: openSync(files.warn, 'a') };
    const [info, warn] = await Promise.all([
      startPortcullis(deps, 'portcullis, default log level', { BENCH_SCHEMA: deps.newSchema(), BENCH_LOG_LEVEL: 'default' }, { stdout: fds.info }),
      startPortcullis(deps, 'portcullis, LOG_LEVEL=warn', { BENCH_SCHEMA: deps.newSchema(), BENCH_LOG_LEVEL: 'warn' }, { stdout: fds.warn }),
    ]);
    // The children hold their own copies of the descriptors.
    closeSync(fds.info);
    closeSync(fds.warn);
    for (const [name, s] of [['log-info', info], ['log-warn', warn]] as const) {
      await deps.load.call('prepareRefresh', { target: s.target, chains: deps.concurrency, name });
    }
    const before = statSync(files.info).size;
    const refresh = (chains: string) => (durationMs: number) =>
      deps.load.call<RoundResult>('refresh', { timing: { concurrency: deps.concurrency, durationMs }, chains });
    const [quiet, loud] = await deps.alternate(`Refresh grants, LOG_LEVEL=warn beside the default level (info, access log on; stdout to a file), concurrency ${deps.concurrency}:`, [
      { label: 'refresh, LOG_LEVEL=warn', unit: 'grants/s', server: warn.server, run: refresh('log-warn') },
      { label: 'refresh, default level', unit: 'grants/s', server: info.server, run: refresh('log-info') },
    // A 5% target under this machine's round-to-round swing: more rounds, after a longer warm-up.
    ], { rounds: 5, warmupMs: 5000 });
    await Promise.all([info.server.stop(), warn.server.stop()]);

    // What the default level wrote while measured: lines per request, and one line as an operator sees it.
    const written = readFileSync(files.info, 'utf8').slice(before).split('\n').filter(Boolean);
    const requests = loud!.reduce((sum, r) => sum + r.completed + r.errors, 0);
    const sample = written.find((line) => line.includes('"POST"')) ?? written[0] ?? '';
    const byMessage = new Map<string, number>();
    for (const line of written) {
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? '?';
      byMessage.set(msg, (byMessage.get(msg) ?? 0) + 1);
    }
    console.log('\nCPU per operation (medians over rounds):');
    console.log(costLine('refresh, LOG_LEVEL=warn', quiet!));
    console.log(costLine('refresh, default level', loud!));
    console.log(`  default level: ${int(written.length)} log lines for ${int(requests)} measured requests (warm-up included in lines), `
      + `${int(statSync(files.info).size - before)} bytes (${[...byMessage].map(([msg, n]) => `${msg} ${int(n)}`).join(', ')}); `
      + `LOG_LEVEL=warn wrote ${int(statSync(files.warn).size)} bytes in all`);
    console.log(`  a line: ${sample.slice(0, 300)}`);

    const ratio = pairedRatio(loud!, quiet!);
    const costRatio = pairedCostRatio(loud!, quiet!);
    const s = { quiet: summarise(quiet!), loud: summarise(loud!) };
    return [{
      figure: 'refresh grants/s, default log level (info)', measured: `${int(s.loud.rate)}/s, p99 ${ms(s.loud.p99Ms)}`,
      yardstick: `LOG_LEVEL=warn ${int(s.quiet.rate)}/s`, ratio: `${ratio.toFixed(2)}×`, target: `≥ ${TARGET}×`,
      verdict: ratio >= TARGET && s.loud.errors === 0 ? 'PASS' : 'BELOW',
    }, {
      // The same pair by server CPU per refresh, round by round: what the log lines cost the process itself.
      figure: 'server CPU per refresh, LOG_LEVEL=warn ÷ default level', measured: 'per-round ratios, median',
      yardstick: 'LOG_LEVEL=warn', ratio: `${costRatio.toFixed(2)}×`, target: '', verdict: '',
    }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
