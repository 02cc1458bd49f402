// The server under test in its own process: the real app (createApp) on real PostgreSQL, in a fresh
// schema BENCH_SCHEMA, seeded with one resource and one account. The orchestrator drops the schema.
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
import { serveCommands } from './child-process.ts';
import { BENCH_EMAIL, BENCH_PASSWORD, BENCH_RESOURCE, BENCH_SCOPE } from './fixtures.ts';

const databaseUrl = process.env.BENCH_DATABASE_URL;
const schema = process.env.BENCH_SCHEMA;
if (!databaseUrl || !schema) throw new Error('BENCH_DATABASE_URL and BENCH_SCHEMA are required');

const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
try {
  await admin.query(`CREATE SCHEMA ${schema}`);
} finally {
  await admin.end();
}
// The pool size main.ts uses (createPgDb's default).
const db = createPgDb(databaseUrl, { searchPath: schema });
await migrate(db);

// Listen first: the issuer names the port, and oidc-provider builds URLs from the request's Host.
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
// One load generator on loopback is one IP and one client: the token endpoint's rate limits would
// measure themselves, so they are lifted here (their check still runs on every request).
const config = loadConfig({
  ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent', TOKEN_RATE_MAX_PER_IP: '10000000', TOKEN_RATE_MAX_PER_CLIENT: '10000000',
  // One person signing in 32 times at once from one address: sign-in attempts in flight count toward the limits.
  LOGIN_MAX_FAILURES_PER_EMAIL: '1000', LOGIN_MAX_FAILURES_PER_IP: '100000',
});
const secrets = { cookieKeys: ['k'.repeat(40)], keyEncryptionSecret: 's'.repeat(40) };
const { app } = await createApp({ config, db, secrets });
server.on('request', app.callback());

await addResource(db, BENCH_RESOURCE, config.accessTokenTtlSeconds);
const account = await addAccount(db, { email: BENCH_EMAIL, password: BENCH_PASSWORD });

serveCommands(
  { port, email: account.email, password: BENCH_PASSWORD, resource: BENCH_RESOURCE.uri, scope: BENCH_SCOPE },
  {
    cpu: () => process.cpuUsage(),
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
