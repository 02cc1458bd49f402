// The server under test in its own process: the real app (createApp) on real PostgreSQL, in a fresh
// schema BENCH_SCHEMA, seeded with one resource and one account. The orchestrator drops the schema.
// BENCH_SHARED_SCHEMA=1 joins a schema another server process created and seeded (with its issuer,
// BENCH_ISSUER: a second process of the same deployment). BENCH_LOG_LEVEL sets the log level as
// main.ts does ('default' for LOG_LEVEL unset); without it the server logs nothing per request.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createPgDb } from '../src/db/pg-db.ts';
import { migrate } from '../src/db/migrate.ts';
import { addAccount } from '../src/accounts/store.ts';
import { addResource } from '../src/resources/store.ts';
import { flushAuditWrites } from '../src/oidc/audit-events.ts';
import { setLogLevel } from '../src/log.ts';
import { serveCommands } from './child-process.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, BENCH_RESOURCE, BENCH_SCOPE } from './fixtures.ts';

const databaseUrl = process.env.BENCH_DATABASE_URL;
const schema = process.env.BENCH_SCHEMA;
if (!databaseUrl || !schema) throw new Error('BENCH_DATABASE_URL and BENCH_SCHEMA are required');
const shared = process.env.BENCH_SHARED_SCHEMA === '1';
const logLevel = process.env.BENCH_LOG_LEVEL;

if (!shared) {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
}
// The pool size main.ts uses (createPgDb's default). Its connections stay open while a series waits for
// another's round (pg closes idle ones after 10 s): reconnecting would land in the next round, and the
// closed backends' CPU would vanish from the round's PostgreSQL reading.
const db = createPgDb({ connectionString: databaseUrl, idleTimeoutMillis: 0 }, { searchPath: schema });
if (!shared) await migrate(db);

// Listen first: the issuer names the port, and oidc-provider builds URLs from the request's Host.
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
// One load generator on loopback is one IP and one client: the token endpoint's rate limits would
// measure themselves, so they are lifted here (their check still runs on every request), and so is the
// limit on sign-ins started per address (AUTH_MAX_PER_IP, 300 a minute: the flows answered 429 past it).
const config = loadConfig({
  ISSUER: process.env.BENCH_ISSUER ?? `http://127.0.0.1:${port}`,
  ...(logLevel === 'default' ? {} : { LOG_LEVEL: logLevel ?? 'silent' }), TOKEN_RATE_MAX_PER_IP: '10000000', TOKEN_RATE_MAX_PER_CLIENT: '10000000', AUTH_MAX_PER_IP: '1000000',
  // One person signing in 32 times at once from one address: sign-in attempts in flight count toward the limits.
  LOGIN_MAX_FAILURES_PER_EMAIL: '1000', LOGIN_MAX_FAILURES_PER_IP: '100000',
  // 32 sign-ins at once: past 8 password checks in flight the rest would answer 429 (that bound is for floods;
  // the password-login series measures sign-ins, and the Argon2 thread pool queues them anyway).
  LOGIN_MAX_CONCURRENT_PASSWORD_CHECKS: '1000',
});
if (logLevel !== undefined) setLogLevel(config.logLevel);
const secrets = { cookieKeys: ['k'.repeat(40)], keyEncryptionSecret: 's'.repeat(40) };
const { app } = await createApp({ config, db, secrets });
server.on('request', app.callback());

if (!shared) {
  await addResource(db, BENCH_RESOURCE, config.accessTokenTtlSeconds);
  await addAccount(db, { email: BENCH_EMAIL, password: BENCH_PASSWORD });
}

serveCommands(
  { port, issuer: config.issuer, email: BENCH_EMAIL, password: BENCH_PASSWORD, resource: BENCH_RESOURCE.uri, scope: BENCH_SCOPE },
  {
    cpu: () => process.cpuUsage(),
    /** After two full collections when the process runs with --expose-gc: what live data holds. */
    memory() {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      return { ...process.memoryUsage(), collected: gc !== undefined };
    },
    async tableSizes() {
      const { rows } = await db.query<{ model: string; n: number }>(
        'SELECT model, count(*)::int AS n FROM oidc_models GROUP BY model ORDER BY model');
      return rows;
    },
  },
  async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await flushAuditWrites();
    await db.close();
  },
);
