// Memory per 100,000 live grants on PostgreSQL (issue 17, target: RSS growth ≤ 10 MB): one server
// process (--expose-gc, collected before each reading) does the same work twice, refresh chains and one
// refresh each of 2,000 grants drawn from the live ones, first with 4,000 live grants and then with
// 100,000 more. What the server keeps per grant (caches, indexes) shows as growth; the rows stay in PostgreSQL.
import { randomBytes } from 'node:crypto';
import { createPgDb } from '../src/db/pg-db.ts';
import { seedGrants, seededId } from './grant-seed.ts';
import { machineShare, sampleMachine } from './machine-cpu.ts';
import { int, ms, type Row } from './report.ts';
import { startPortcullis, type ServerBenchDeps } from './server-bench-deps.ts';
import type { RoundResult } from './stats.ts';

const BASE = 4_000;
const ADDED = 100_000;
const TOUCHED = 2_000;
const CHAIN_MS = 3_000;
const TARGET_MB = 10;

interface Memory { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; collected: boolean }
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const signedMb = (bytes: number) => `${bytes >= 0 ? '+' : '−'}${mb(Math.abs(bytes))}`;

/** `count` distinct indexes from `from`…`to`, in random order. */
function draw(from: number, to: number, count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < count) picked.add(from + Math.floor(Math.random() * (to - from + 1)));
  return [...picked];
}

export async function runGrantMemoryBench(deps: ServerBenchDeps): Promise<Row[]> {
  const schema = deps.newSchema();
  const { server, target } = await startPortcullis(deps, 'portcullis, memory', { BENCH_SCHEMA: schema }, { nodeFlags: ['--expose-gc'] });
  const db = createPgDb(deps.databaseUrl, { searchPath: schema, max: 1 });
  const seed = randomBytes(6).toString('hex');
  try {
    await deps.load.call('prepareRefresh', { target, chains: deps.concurrency, name: 'memory-grants' });
    await seedGrants(db, seed, 1, BASE);
    const liveGrants = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Grant'`)).rows[0]!.n;
    /** The same work each time: the chains for a while, then one refresh of each drawn grant. */
    const exercise = async (indexes: number[]) => {
      const machineBefore = sampleMachine();
      await deps.load.call<RoundResult>('refresh', { timing: { concurrency: deps.concurrency, durationMs: CHAIN_MS }, chains: 'memory-grants' });
      const result = await deps.load.call<RoundResult>('refreshEach', {
        port: target.port, clientId: target.clientId, tokens: indexes.map((i) => seededId(seed, i)), concurrency: deps.concurrency,
      });
      if (result.errors) throw new Error(`refreshing seeded grants: ${result.errors} failed (${result.firstError})`);
      return { ...result, ...machineShare(machineBefore, sampleMachine()) };
    };
    console.log(`\nServer memory with live grants (one process, --expose-gc, after two collections):`);
    // Warm-up, the same work once: JIT, pools, caches and the heap's high-water mark at their working size
    // (RSS rarely shrinks after a busier stretch, so the reading before must follow the same work).
    await exercise(draw(1, TOUCHED, TOUCHED));
    const touchedBefore = await exercise(draw(TOUCHED + 1, BASE, TOUCHED));
    const before = await server.call<Memory>('memory');
    const grantsBefore = await liveGrants();
    const seedStarted = Date.now();
    await seedGrants(db, seed, BASE + 1, BASE + ADDED);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const touchedAfter = await exercise(draw(BASE + 1, BASE + ADDED, TOUCHED));
    const after = await server.call<Memory>('memory');
    const grantsAfter = await liveGrants();
    const growth = after.rss - before.rss;
    const line = (label: string, grants: number, m: Memory, touched: RoundResult) =>
      `  ${label.padEnd(7)} ${int(grants).padStart(7)} live grants: rss ${mb(m.rss)}, heap ${mb(m.heapUsed)} used of ${mb(m.heapTotal)}, external ${mb(m.external)}` +
      `  (${int(touched.completed)} random grants refreshed, ${int(touched.rate)}/s, p99 ${ms(touched.p99Ms)}` +
      (touched.machinePct === undefined ? ')' : `; cpu% over the work: postgres ${Math.round(touched.postgresPct!)}, machine ${Math.round(touched.machinePct)}/${touched.capacityPct})`);
    console.log(line('before', grantsBefore, before, touchedBefore));
    console.log(`  added ${int(grantsAfter - grantsBefore)} grants (a Grant row and a refresh token each) in ${seedSeconds.toFixed(1)} s`);
    console.log(line('after', grantsAfter, after, touchedAfter));
    console.log(`  growth: rss ${signedMb(growth)}, heap used ${signedMb(after.heapUsed - before.heapUsed)}, heap total ${signedMb(after.heapTotal - before.heapTotal)}` +
      (after.collected ? '' : ' (no --expose-gc: readings include garbage)'));
    const per100k = (growth * 100_000) / (grantsAfter - grantsBefore);
    return [{
      figure: 'server RSS growth per 100,000 live grants (PostgreSQL)', measured: `${mb(before.rss)} → ${mb(after.rss)} (${int(grantsBefore)} → ${int(grantsAfter)} grants)`,
      yardstick: `the same process with ${int(grantsBefore)} grants`, ratio: signedMb(per100k), target: `≤ ${TARGET_MB} MB`,
      verdict: per100k <= TARGET_MB * 1024 * 1024 ? 'PASS' : 'ABOVE',
    }];
  } finally {
    await db.close();
    await server.stop();
  }
}
