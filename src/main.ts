// Start: config → secrets → database → migrations → app → listen; on SIGINT/SIGTERM stop accepting,
// let in-flight requests finish, then close the database.
import { createServer } from 'node:http';
import { loadConfig, ConfigError } from './config.ts';
import { loadSecrets } from './secrets.ts';
import { openDb } from './db/open-db.ts';
import { ensureWritableDataDir } from './db/data-dir-check.ts';
import { migrate } from './db/migrate.ts';
import { createApp } from './app.ts';
import { startPurgeTimer } from './oidc/purge.ts';
import { purgeExpiredToolCalls } from './tools/calls.ts';
import { flushAuditWrites } from './oidc/audit-events.ts';
import { flushFailureWrites } from './oidc/failure-events.ts';
import { log, setLogLevel } from './log.ts';
import { startTracing, stopTracing } from './telemetry/tracing.ts';
import { startToolInventoryTimer } from './tools/inventory-timer.ts';
import { toolServiceDeps } from './tools/service.ts';


async function main(): Promise<void> {
  const config = loadConfig();
  setLogLevel(config.logLevel);
  if (config.issuer.startsWith('https://') && !config.trustProxy) {
    // We serve plain HTTP: an https issuer means a TLS proxy in front, whose X-Forwarded-Proto we must
    // trust, or koa refuses to set the Secure cookies sign-in needs.
    log.warn('ISSUER is https but TRUST_PROXY is false: set TRUST_PROXY=true behind your TLS-terminating proxy, or sign-in cannot set its Secure cookies');
  }
  if (config.cimd.allowLoopback) {
    log.warn('CIMD_ALLOW_LOOPBACK is true: client metadata documents may be fetched from loopback addresses (development only; never in production)');
  }
  // DATA_DIR holds the embedded database and any generated secrets: check it once, before either touches it.
  if (!config.databaseUrl || !(config.cookieKeys && config.keyEncryptionSecret)) ensureWritableDataDir(config.dataDir);
  const secrets = loadSecrets(config);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: 'server', statementTimeoutMs: config.dbStatementTimeoutMs });
  const applied = await migrate(db);
  if (applied.length) log.info('migrations applied', { versions: applied });
  // Before createApp: the app wires its requests, provider and queries to the tracing on at that moment.
  await startTracing(config.tracing);
  const { app, signingKeys, close: closeApp } = await createApp({ config, db, secrets });
  // Keys rotated or retired by the CLI or another process are picked up without a restart.
  const stopKeyRefresh = signingKeys.watch(config.keyRefreshSeconds);
  // The tool calls kits report are kept exactly as long as the audit trail (issue 14 §6, migration 0031).
  const stopPurge = startPurgeTimer(db, config.purgeIntervalSeconds, config.registration.unusedClientTtlSeconds, config.auditRetentionDays,
    [(purgeDb) => purgeExpiredToolCalls(purgeDb, config.auditRetentionDays)]);
  // Every resource's tools listed again now and then, so drift is found without an operator asking (issue 14).
  const stopToolInventory = startToolInventoryTimer(toolServiceDeps(db, config, secrets.keyEncryptionSecret), config.tools.intervalSeconds);

  const server = createServer(app.callback());
  const listening = config.host === undefined ? `port ${config.port}` : `${config.host} port ${config.port}`;
  server.on('error', async (error: NodeJS.ErrnoException) => {
    const reason = error.code === 'EADDRINUSE' ? `${listening} is already in use (set PORT to another one)`
      : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
        ? `HOST ${config.host} is not an address of this machine (${error.code}); unset HOST to listen on every interface`
        : error.message;
    console.error(`Portcullis could not start: ${reason}`);
    await db.close();
    process.exit(1);
  });
  // host undefined: Node listens on every interface (:: with IPv4 mapped, or 0.0.0.0 without IPv6).
  server.listen({ port: config.port, host: config.host }, () => {
    const address = server.address();
    log.info('Portcullis is ready', {
      issuer: config.issuer, port: config.port,
      address: typeof address === 'object' && address !== null ? address.address : address,
      database: config.databaseUrl ? 'postgresql' : `embedded PGlite in ${config.dataDir}`,
      traces: config.tracing ? `OTLP to ${new URL(config.tracing.endpoint).host}` : 'off',
    });
    log.flush();
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    stopPurge();
    stopToolInventory();
    stopKeyRefresh();
    server.close(async () => {
      await flushAuditWrites();
      await flushFailureWrites();
      await closeApp();
      await db.close();
      // Last: the spans of the requests that just finished are still queued.
      await stopTracing();
      log.info('stopped', { signal });
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || (error instanceof Error && error.name !== 'Error')
    ? (error as Error).message
    : String((error as Error)?.stack ?? error);
  console.error(`Portcullis could not start: ${message}`);
  process.exit(1);
});
