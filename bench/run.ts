// `npm run bench`: Portcullis throughput beside yardsticks measured in the same run, alternated with
// them round by round, every server and the load generator in a process of its own, on loopback.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import pg from 'pg';
import { createPgDb } from '../src/db/pg-db.ts';
import { migrate } from '../src/db/migrate.ts';
import { startChild, type Child, type ChildOptions } from './child-process.ts';
import { machineShare, sampleMachine } from './machine-cpu.ts';
import { HttpConnection } from './http-connection.ts';
import { registerPublicClient } from './oauth-browser.ts';
import { brief, describeStatements, measureTokenRoundTrips, ROUND_TRIP_BUDGETS } from './round-trips.ts';
import type { FixedRequest, PortcullisTarget, Timing } from './load-generator.ts';
import type { RoundResult } from './stats.ts';
import { ceilingRow, costDifference, costLine, int, ms, pairedRatio, roundLine, roundTripRow, summarise, table, type Row } from './report.ts';
import { printKitSummary, runKitBench } from './kit-bench.ts';
import type { BenchSeries } from './server-bench-deps.ts';
import { isServerExtra, runServerExtras, SERVER_EXTRAS, type ServerExtra } from './server-extras.ts';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = 3;
const ROUND_MS = Number(process.env.BENCH_ROUND_SECONDS ?? 5) * 1000;
const WARMUP_MS = 1500;
const CONCURRENCY = 32;
// The whole bench takes about 8 minutes here (the server extras about 3 of them).
const HARD_LIMIT_MS = 12 * 60 * 1000;
// `npm run bench -- --only kit` (or BENCH_ONLY=kit): just the resource-server kit's figures, no database.
// `--only server-extras`: the log level, memory per live grants and one-to-two processes figures
// (server-extras.ts); `--only log-level`, `grant-memory` or `scaling`: one of them.
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg === -1 ? process.env.BENCH_ONLY : process.argv[onlyArg + 1];
const EXTRAS: ServerExtra[] | undefined = ONLY === 'server-extras' ? Object.keys(SERVER_EXTRAS) as ServerExtra[]
  : ONLY !== undefined && isServerExtra(ONLY) ? [ONLY] : undefined;
if (ONLY !== undefined && ONLY !== 'kit' && !EXTRAS) {
  throw new Error(`--only accepts kit, server-extras, ${Object.keys(SERVER_EXTRAS).join(', ')}; got ${JSON.stringify(ONLY)}`);
}

const children: Child<unknown>[] = [];
const schemas: string[] = [];
const newSchema = () => {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  return schema;
};

async function dropSchemas(): Promise<void> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

async function cleanUp(): Promise<void> {
  // Newest first: the load generator stops before the servers it talks to.
  for (const child of children.splice(0).reverse()) await child.stop().catch(() => {});
  await dropSchemas();
}

function start<Ready>(name: string, script: string, env: Record<string, string> = {}, options: ChildOptions = {}) {
  const child = startChild<Ready>(name, script, env, options);
  children.push(child as Child<unknown>);
  return child;
}

type CpuUsage = NodeJS.CpuUsage;
/** One timed round, with the CPU the measured server used over it. */
async function measure(server: Child<unknown>, run: () => Promise<RoundResult>): Promise<RoundResult> {
  const before = await server.call<CpuUsage>('cpu');
  const machineBefore = sampleMachine();
  const result = await run();
  const machine = machineShare(machineBefore, sampleMachine());
  const after = await server.call<CpuUsage>('cpu');
  const cpuMs = (after.user - before.user + after.system - before.system) / 1000;
  return { ...result, serverCpuMsPerS: (cpuMs * 1000) / result.elapsedMs, ...machine };
}

type Series = BenchSeries;
/** A pair whose difference is small beside a round's noise gets more rounds and a longer warm-up. */
interface AlternateOptions { rounds?: number; warmupMs?: number }

/**
 * Yardstick, subject, yardstick, subject …: ROUNDS rounds (or `options.rounds`) of every series in order, after a
 * warm-up of WARMUP_MS (or `options.warmupMs`) each.
 */
/**
 * Vacuums and analyses the bench schemas' tables, outside the measured time. Otherwise PostgreSQL's
 * autovacuum starts on its own once a series has changed enough rows, and runs (a core's worth of CPU)
 * inside whichever round comes next, and a table's first statistics change its plans mid-run: an A/A run of
 * two identical servers measured 0.93x that way.
 */
async function settleDatabase(): Promise<void> {
  if (schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
       WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'`, [schemas]);
    for (const { name } of rows) await admin.query(`VACUUM (ANALYZE) ${name}`);
  } finally {
    await admin.end();
  }
}

async function alternate(title: string, series: Series[], options: AlternateOptions = {}): Promise<RoundResult[][]> {
  console.log(`\n${title}`);
  for (const s of series) {
    await s.prepare?.();
    await s.run(options.warmupMs ?? WARMUP_MS);
  }
  const results: RoundResult[][] = series.map(() => []);
  for (let round = 1; round <= (options.rounds ?? ROUNDS); round += 1) {
    // Every other round in reverse order (A B, B A, A B, ...): whatever one series leaves behind in the
    // machine (PostgreSQL's autovacuum and checkpoints, a collection) falls on each series alike.
    const order = [...series.entries()];
    if (round % 2 === 0) order.reverse();
    await settleDatabase();
    for (const [i, s] of order) {
      await s.prepare?.();
      const result = await measure(s.server, () => s.run(ROUND_MS));
      results[i]!.push(result);
      console.log(roundLine(round, s.label, s.unit, result));
    }
  }
  return results;
}

async function roundTrips() {
  const schema = newSchema();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = createPgDb(DATABASE_URL, { searchPath: schema });
  try {
    await migrate(db);
    return await measureTokenRoundTrips(db);
  } finally {
    await db.close();
  }
}

/** A second opinion on the bare yardstick from autocannon, so a slow generator would show. */
async function autocannonBare(port: number): Promise<number> {
  const script = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const child = spawn(process.execPath, [script, '-c', String(CONCURRENCY), '-d', '3', '-j', `http://127.0.0.1:${port}/`],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  await new Promise((resolve) => child.on('exit', resolve));
  try {
    return (JSON.parse(output) as { requests: { average: number } }).requests.average;
  } catch {
    return Number.NaN;
  }
}

async function kitOnly(): Promise<void> {
  const began = Date.now();
  console.log(`Portcullis bench, kit only: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ` +
    `${ROUNDS} rounds × ${ROUND_MS / 1000} s, concurrency ${CONCURRENCY}, loopback`);
  const load = start<unknown>('load generator', 'load-generator.ts');
  await load.ready;
  printKitSummary(await runKitBench({ start, alternate, load, concurrency: CONCURRENCY }), ROUNDS);
  console.log(`\nFinished in ${Math.round((Date.now() - began) / 1000)} s.`);
}

async function extrasOnly(which: ServerExtra[]): Promise<void> {
  const began = Date.now();
  console.log(`Portcullis bench, ${which.join(', ')}: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ` +
    `${ROUNDS} rounds × ${ROUND_MS / 1000} s, concurrency ${CONCURRENCY}, loopback; PostgreSQL ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}`);
  const load = start<unknown>('load generator', 'load-generator.ts');
  await load.ready;
  const rows = await runServerExtras({ start, alternate, load, concurrency: CONCURRENCY, databaseUrl: DATABASE_URL, newSchema }, which);
  console.log(`\nSummary (medians of ${ROUNDS} rounds, five for the log level; ratios are medians of per-round ratios):\n${table(rows)}`);
  console.log(`\nFinished in ${Math.round((Date.now() - began) / 1000)} s.`);
}

async function main(): Promise<void> {
  const began = Date.now();
  console.log(`Portcullis bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ` +
    `${ROUNDS} rounds × ${ROUND_MS / 1000} s, concurrency ${CONCURRENCY}, loopback; PostgreSQL ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}`);

  console.log('\nDatabase round trips (in process, countingDb over PostgreSQL):');
  const trips = await roundTrips();
  for (const [name, snapshot] of [['code exchange (grant_type=authorization_code)', trips.codeExchange], ['refresh (grant_type=refresh_token)', trips.refresh]] as const) {
    console.log(`  ${name}: ${snapshot.read} read, ${snapshot.consume} consume, ${snapshot.write} write, ${snapshot.other} other, ${snapshot.transactions} transactions`);
    for (const line of describeStatements(snapshot, 110)) console.log(`    ${line}`);
  }
  for (const [name, flow] of [['one flow in a signed-in browser (prompt=consent)', trips.sessionFlow],
    ['one flow in a signed-in browser, consent already given', trips.consentGivenFlow],
    ['one flow in a fresh browser with a password sign-in', trips.loginFlow]] as const) {
    const flowTotal = flow.reduce((sum, step) => sum + step.snapshot.total, 0);
    console.log(`  ${name}, request by request: ${flowTotal} round trips`);
    for (const { request, snapshot } of flow) {
      const path = request.replace(/\/(interaction|auth)\/[\w-]{10,}/, '/$1/:uid');
      console.log(`    ${path.padEnd(38)} ${String(snapshot.total).padStart(2)}: ${snapshot.statements.map(brief).join(', ')}`);
    }
  }

  const bare = start<{ port: number }>('bare koa', 'yardstick-server.ts', { YARDSTICK_MODE: 'bare' });
  const sign = start<{ port: number }>('koa+sign', 'yardstick-server.ts', { YARDSTICK_MODE: 'sign' });
  const server = start<Omit<PortcullisTarget, 'clientId'>>('portcullis', 'portcullis-server.ts',
    { BENCH_DATABASE_URL: DATABASE_URL, BENCH_SCHEMA: newSchema() });
  const memory = start<{ port: number; clientId: string }>('oidc-provider in memory', 'oidc-memory-server.ts');
  const hasher = start<unknown>('argon2', 'argon2-worker.ts');
  const load = start<unknown>('load generator', 'load-generator.ts');
  const [barePort, signPort, seeded, inMemory] = await Promise.all([bare.ready, sign.ready, server.ready, memory.ready, hasher.ready, load.ready])
    .then(([b, s, p, m]) => [b.port, s.port, p, m] as const);
  const registration = new HttpConnection('127.0.0.1', seeded.port);
  const target: PortcullisTarget = { ...seeded, clientId: await registerPublicClient(registration) };
  registration.close();

  const timing = (durationMs: number): Timing => ({ concurrency: CONCURRENCY, durationMs });
  const fixed = (request: FixedRequest) => (durationMs: number) => load.call<RoundResult>('fixed', { request, timing: timing(durationMs) });
  const bareSeries: Series = { label: 'bare koa', unit: 'req/s', server: bare, run: fixed({ port: barePort, method: 'GET', path: '/' }) };
  const signSeries: Series = {
    label: 'koa+sign', unit: 'req/s', server: sign,
    run: fixed({ port: signPort, method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${randomBytes(32).toString('base64url')}&client_id=${target.clientId}` }),
  };

  const cannon = await autocannonBare(barePort);
  const ours = await bareSeries.run(3000);
  console.log(`\nGenerator check, bare koa for 3 s: autocannon ${int(cannon)} req/s, our generator ${int(ours.rate)} req/s`);

  // Refresh grants with rotation: one chain per user, each token presented once.
  await load.call('prepareRefresh', { target, chains: CONCURRENCY });
  // The in-memory adapter indexes every refresh token under its grant, so long chains slow it down:
  // every round gets chains minted afresh in that process (outside the measured time).
  const memorySeries: Series = {
    label: 'oidc-provider in memory', unit: 'grants/s', server: memory,
    prepare: async () => load.call('setChains', { name: 'memory', chains: { ...inMemory, tokens: await memory.call<string[]>('chains', { n: CONCURRENCY }) } }),
    run: (d) => load.call<RoundResult>('refresh', { timing: timing(d), chains: 'memory' }),
  };
  const [bareA, signA, memoryA, refreshA] = await alternate('Refresh grants with rotation (POST /token grant_type=refresh_token), concurrency 32:', [
    bareSeries, signSeries, memorySeries,
    { label: 'refresh grant', unit: 'grants/s', server, run: (d) => load.call<RoundResult>('refresh', { timing: timing(d) }) },
  ]);

  await load.call('prepareSessions', { target, users: CONCURRENCY });
  // The same flows on oidc-provider alone (in memory, minimal pages): what the stack costs without us.
  const memoryTarget: PortcullisTarget = { ...target, port: inMemory.port, clientId: inMemory.clientId };
  await load.call('prepareSessions', { target: memoryTarget, users: CONCURRENCY, name: 'memory' });
  const memoryFlows = (login: boolean) => (d: number) => load.call<RoundResult>('flows', { timing: timing(d), login, name: 'memory' });
  const [bareB, memorySessionA, flowsSession] = await alternate('Authorization-code flows with a signed-in session (authorize → consent page → approve → token, prompt=consent):', [
    bareSeries,
    { label: 'in memory, existing session', unit: 'flows/s', server: memory, run: memoryFlows(false) },
    { label: 'flow, existing session', unit: 'flows/s', server, run: (d) => load.call<RoundResult>('flows', { timing: timing(d), login: false }) },
  ]);

  // Issue 17's workload: the consent already given, so authorize answers with the code at once.
  const [memoryGivenA, flowsGiven] = await alternate('Authorization-code flows with a signed-in session, consent already given (authorize → code → token):', [
    { label: 'in memory, consent given', unit: 'flows/s', server: memory, run: (d) => load.call<RoundResult>('flows', { timing: timing(d), login: false, consentGiven: true, name: 'memory' }) },
    { label: 'flow, consent given', unit: 'flows/s', server, run: (d) => load.call<RoundResult>('flows', { timing: timing(d), login: false, consentGiven: true }) },
  ]);

  const [argon, memoryLoginA, flowsLogin] = await alternate('Authorization-code flows with a password login each (fresh browser per flow):', [
    { label: 'argon2 verify', unit: 'verify/s', server: hasher, run: (d) => hasher.call<RoundResult>('verify', { concurrency: CONCURRENCY, durationMs: d }) },
    { label: 'in memory, password login', unit: 'flows/s', server: memory, run: memoryFlows(true) },
    { label: 'flow, password login', unit: 'flows/s', server, run: (d) => load.call<RoundResult>('flows', { timing: timing(d), login: true }) },
  ]);
  const rows = await server.call<{ model: string; n: number }[]>('tableSizes');
  const kitRows = await runKitBench({ start, alternate, load, concurrency: CONCURRENCY });
  // The main servers are done: stopped first, so the extras have the machine to themselves.
  await Promise.all([bare, sign, server, memory, hasher].map((child) => child.stop()));
  const extraRows = await runServerExtras({ start, alternate, load, concurrency: CONCURRENCY, databaseUrl: DATABASE_URL, newSchema });

  const s = { bareA: summarise(bareA!), sign: summarise(signA!), memory: summarise(memoryA!), refresh: summarise(refreshA!), bareB: summarise(bareB!),
    session: summarise(flowsSession!), argon: summarise(argon!), login: summarise(flowsLogin!),
    memorySession: summarise(memorySessionA!), memoryLogin: summarise(memoryLoginA!),
    given: summarise(flowsGiven!), memoryGiven: summarise(memoryGivenA!) };
  const givenOverMemory = pairedRatio(flowsGiven!, memoryGivenA!);
  const sessionOverMemory = pairedRatio(flowsSession!, memorySessionA!);
  const loginOverMemory = pairedRatio(flowsLogin!, memoryLoginA!);
  const refreshRatio = pairedRatio(refreshA!, signA!);
  const memoryRatio = pairedRatio(memoryA!, signA!);
  const refreshOverMemory = pairedRatio(refreshA!, memoryA!);
  const sessionRatio = pairedRatio(flowsSession!, bareB!, 1 / 5);
  const loginRatio = pairedRatio(flowsLogin!, argon!);
  const memorySessionRatio = pairedRatio(memorySessionA!, bareB!, 1 / 5);
  const memoryLoginRatio = pairedRatio(memoryLoginA!, argon!);
  const verdict = (pass: boolean) => (pass ? 'PASS' : 'BELOW');
  const latency = (x: { p50Ms: number; p99Ms: number }) => `p50 ${ms(x.p50Ms)}, p99 ${ms(x.p99Ms)}`;
  const errors = (x: { errors: number }) => (x.errors ? `, ${x.errors} errors` : '');
  const summary: Row[] = [
    { figure: 'bare koa (yardstick)', measured: `${int(s.bareA.rate)} req/s, ${latency(s.bareA)}`, yardstick: '', ratio: '', target: '', verdict: '' },
    { figure: 'koa+sign (yardstick)', measured: `${int(s.sign.rate)} req/s, ${latency(s.sign)}`, yardstick: '', ratio: '', target: '', verdict: '' },
    {
      figure: 'oidc-provider in memory (yardstick)', measured: `${int(s.memory.rate)} grants/s, ${latency(s.memory)}${errors(s.memory)}`,
      yardstick: `koa+sign ${int(s.sign.rate)}/s`, ratio: `${memoryRatio.toFixed(2)}×`, target: 'issue claims 0.51×', verdict: '',
    },
    {
      figure: 'refresh grants/s, rotation, c=32', measured: `${int(s.refresh.rate)}/s, ${latency(s.refresh)}${errors(s.refresh)}`,
      yardstick: `koa+sign ${int(s.sign.rate)}/s`, ratio: `${refreshRatio.toFixed(2)}×`, target: '', verdict: '',
    },
    {
      figure: 'refresh grant ÷ oidc-provider in memory', measured: `${int(s.refresh.rate)}/s, p99 ${ms(s.refresh.p99Ms)}`,
      yardstick: `in memory ${int(s.memory.rate)}/s`, ratio: `${refreshOverMemory.toFixed(2)}×`, target: 'issue 17: ≥ 0.6×, p99 ≤ 60 ms',
      verdict: verdict(refreshOverMemory >= 0.6 && s.refresh.p99Ms <= 60 && s.refresh.errors === 0),
    },
    {
      figure: 'oidc-provider in memory: flows/s, existing session (yardstick)', measured: `${int(s.memorySession.rate)}/s, ${latency(s.memorySession)}${errors(s.memorySession)}`,
      yardstick: `bare koa ${int(s.bareB.rate)}/s ÷ 5`, ratio: `${memorySessionRatio.toFixed(2)}×`, target: 'the stack alone, no database', verdict: '',
    },
    {
      figure: 'code flows/s, existing session', measured: `${int(s.session.rate)}/s, ${latency(s.session)}${errors(s.session)}`,
      yardstick: `bare koa ${int(s.bareB.rate)}/s ÷ 5`, ratio: `${sessionRatio.toFixed(2)}×`, target: '', verdict: '',
    },
    {
      figure: 'code flows, consent page shown ÷ in memory', measured: `${int(s.session.rate)}/s`,
      yardstick: `in memory ${int(s.memorySession.rate)}/s`, ratio: `${sessionOverMemory.toFixed(2)}×`, target: '', verdict: '',
    },
    {
      figure: 'code flows, consent already given ÷ in memory', measured: `${int(s.given.rate)}/s, ${latency(s.given)}${errors(s.given)}`,
      yardstick: `in memory ${int(s.memoryGiven.rate)}/s`, ratio: `${givenOverMemory.toFixed(2)}×`, target: 'issue 17: ≥ 0.6×',
      verdict: verdict(givenOverMemory >= 0.6 && s.given.errors === 0),
    },
    { figure: 'argon2id verify/s (yardstick)', measured: `${int(s.argon.rate)}/s, ${latency(s.argon)}`, yardstick: '', ratio: '', target: '', verdict: '' },
    {
      figure: 'oidc-provider in memory: flows/s, password login (yardstick)', measured: `${int(s.memoryLogin.rate)}/s, ${latency(s.memoryLogin)}${errors(s.memoryLogin)}`,
      yardstick: `argon2 ${int(s.argon.rate)}/s`, ratio: `${memoryLoginRatio.toFixed(2)}×`, target: 'the stack alone, no database', verdict: '',
    },
    {
      figure: 'code flows/s, password login', measured: `${int(s.login.rate)}/s, ${latency(s.login)}${errors(s.login)}`,
      yardstick: `argon2 ${int(s.argon.rate)}/s`, ratio: `${loginRatio.toFixed(2)}×`, target: '', verdict: '',
    },
    {
      figure: 'code flows, password login ÷ in memory', measured: `${int(s.login.rate)}/s`,
      yardstick: `in memory ${int(s.memoryLogin.rate)}/s`, ratio: `${loginOverMemory.toFixed(2)}×`, target: 'issue 17: ≥ 0.85×',
      verdict: verdict(loginOverMemory >= 0.85 && s.login.errors === 0),
    },
    // What this machine allows at all: PostgreSQL and the load generator share its cores with the server.
    ceilingRow('ceiling here: refresh ÷ in memory', refreshA!, memoryA!, 0.6, 'grants/s'),
    ceilingRow('ceiling here: consent given ÷ in memory', flowsGiven!, memoryGivenA!, 0.6, 'flows/s'),
    ceilingRow('ceiling here: password login ÷ in memory', flowsLogin!, memoryLoginA!, 0.85, 'flows/s'),
    roundTripRow('round trips, one code exchange', trips.codeExchange, ROUND_TRIP_BUDGETS.codeExchange),
    roundTripRow('round trips, one refresh', trips.refresh, ROUND_TRIP_BUDGETS.refresh),
    ...extraRows,
    ...kitRows,
  ];
  console.log('\nCPU per operation (medians over rounds):');
  for (const [label, results] of [['bare koa', bareA!], ['koa+sign', signA!], ['oidc-provider in memory', memoryA!], ['refresh grant', refreshA!],
    ['in memory, existing session', memorySessionA!], ['flow, existing session', flowsSession!],
    ['in memory, consent given', memoryGivenA!], ['flow, consent given', flowsGiven!], ['argon2 verify', argon!],
    ['in memory, password login', memoryLoginA!], ['flow, password login', flowsLogin!]] as const) {
    console.log(costLine(label, results));
  }
  console.log(costDifference('refresh grant − in memory', refreshA!, memoryA!));
  console.log(`\noidc_models rows at the end: ${rows.map((r) => `${r.model} ${int(r.n)}`).join(', ')}`);
  console.log(`\nSummary (medians of ${ROUNDS} rounds, five for the log level, seven for the tool-call recording; ratios are medians of per-round ratios):\n${table(summary)}`);
  console.log(`\nFinished in ${Math.round((Date.now() - began) / 1000)} s.`);
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${HARD_LIMIT_MS / 60000} minutes; stopping`);
  void cleanUp().finally(() => process.exit(1));
}, HARD_LIMIT_MS);
watchdog.unref();
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

try {
  await (ONLY === 'kit' ? kitOnly() : EXTRAS ? extrasOnly(EXTRAS) : main());
} catch (error) {
  console.error('bench failed:', error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
