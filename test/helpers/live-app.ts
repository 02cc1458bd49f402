// A real Portcullis app listening on a real loopback port whose issuer is its own address
// (http://localhost:<port>), for clients that cannot be pointed at a Host header: a real browser.
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { addResource } from '../../src/resources/store.ts';
import type { NewResource } from '../../src/resources/schema.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { flushFailureWrites } from '../../src/oidc/failure-events.ts';
import { createMigratedTestDb } from './test-db.ts';
import { PASSWORD, TEST_SECRETS } from './test-app.ts';

/**
 * Listens first (port 0, so the kernel picks a free port and nothing else can take it in between),
 * then builds the app with that port in its issuer and hands the server the app's handler: no race
 * between "pick a free port" and "listen on it".
 */
export async function createLiveTestApp(environment: Record<string, string> = {}) {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  // `localhost`, not 127.0.0.1: a second loopback origin (127.0.0.1:<other>) is then cross-site to
  // the browser, which is what the callback and attacker servers need to be.
  const issuer = `http://localhost:${port}`;
  const testDb = await createMigratedTestDb().catch(async (error: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  });
  const config = loadConfig({ ISSUER: issuer, ...environment });
  const { app, provider } = await createApp({ config, db: testDb.db, secrets: TEST_SECRETS });
  server.on('request', app.callback());
  return {
    issuer,
    db: testDb.db,
    config,
    provider,
    addUser: (email = `user-${Math.random().toString(36).slice(2)}@example.com`, password = PASSWORD) =>
      addAccount(testDb.db, { email, password }),
    addResource: (resource: NewResource) => addResource(testDb.db, resource, config.accessTokenTtlSeconds),
    async close() {
      await flushAuditWrites();
      await flushFailureWrites();
      // A browser may still hold keep-alive connections: close them, or server.close() waits for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await testDb.cleanup();
    },
  };
}

export type LiveTestApp = Awaited<ReturnType<typeof createLiveTestApp>>;
