// What the Portcullis server figures beyond the main ones (server-extras.ts) take from the orchestrator
// (run.ts): its way of starting child processes, alternating series, and the load generator.
import type { Child, ChildOptions } from './child-process.ts';
import { HttpConnection } from './http-connection.ts';
import type { PortcullisTarget } from './load-generator.ts';
import { registerPublicClient } from './oauth-browser.ts';
import type { RoundResult } from './stats.ts';

export interface BenchSeries {
  label: string; unit: string; server: Child<unknown>; run: (durationMs: number) => Promise<RoundResult>;
  /** Before the warm-up and each round, outside the measured time. */
  prepare?: () => Promise<unknown>;
}

export interface ServerBenchDeps {
  start<Ready>(name: string, script: string, env?: Record<string, string>, options?: ChildOptions): Child<Ready>;
  alternate(title: string, series: BenchSeries[], options?: { rounds?: number; warmupMs?: number }): Promise<RoundResult[][]>;
  /** The load generator process (load-generator.ts), already running. */
  load: Child<unknown>;
  concurrency: number;
  databaseUrl: string;
  /** A fresh schema name, dropped by the orchestrator at the end. */
  newSchema(): string;
}

export type PortcullisReady = Omit<PortcullisTarget, 'clientId'> & { issuer: string };

/**
 * Starts portcullis-server.ts and registers a public client on it, as the main bench does; with
 * `clientId`, the server joins a deployment whose client already exists (a second process).
 */
export async function startPortcullis(deps: ServerBenchDeps, name: string, env: Record<string, string>,
  options: ChildOptions = {}, clientId?: string): Promise<{ server: Child<PortcullisReady>; target: PortcullisTarget; issuer: string }> {
  const server = deps.start<PortcullisReady>(name, 'portcullis-server.ts', { BENCH_DATABASE_URL: deps.databaseUrl, ...env }, options);
  const { issuer, ...ready } = await server.ready;
  if (clientId) return { server, target: { ...ready, clientId }, issuer };
  const registration = new HttpConnection('127.0.0.1', ready.port);
  try {
    return { server, target: { ...ready, clientId: await registerPublicClient(registration) }, issuer };
  } finally {
    registration.close();
  }
}

/** CPU-per-round figures for a deployment of several processes: their CPU added up, as `measure` reads it. */
export function together(name: string, servers: Child<unknown>[]): Child<unknown> {
  const first = servers[0]!;
  return {
    name, pid: first.pid, ready: first.ready, stop: async () => { await Promise.all(servers.map((s) => s.stop())); },
    async call<T>(command: string, payload?: unknown): Promise<T> {
      if (command !== 'cpu') return first.call<T>(command, payload);
      const all = await Promise.all(servers.map((s) => s.call<NodeJS.CpuUsage>('cpu')));
      return all.reduce((sum, u) => ({ user: sum.user + u.user, system: sum.system + u.system }), { user: 0, system: 0 }) as T;
    },
  };
}
