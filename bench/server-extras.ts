// The server figures issue 17 adds beside the throughput ones, each beside its yardstick: the default
// log level against LOG_LEVEL=warn, memory per 100,000 live grants, one server process against two.
// `npm run bench -- --only server-extras` runs the three alone; --only log-level, grant-memory or scaling one of them.
import { runGrantMemoryBench } from './grant-memory-bench.ts';
import { runLogLevelBench } from './log-level-bench.ts';
import type { Row } from './report.ts';
import { runScalingBench } from './scaling-bench.ts';
import type { ServerBenchDeps } from './server-bench-deps.ts';

export const SERVER_EXTRAS = { 'log-level': runLogLevelBench, 'grant-memory': runGrantMemoryBench, scaling: runScalingBench } as const;
export type ServerExtra = keyof typeof SERVER_EXTRAS;
export const isServerExtra = (name: string): name is ServerExtra => Object.hasOwn(SERVER_EXTRAS, name);

export async function runServerExtras(deps: ServerBenchDeps, which: ServerExtra[] = Object.keys(SERVER_EXTRAS) as ServerExtra[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const name of which) rows.push(...await SERVER_EXTRAS[name](deps));
  return rows;
}
