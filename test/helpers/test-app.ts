// A real Portcullis koa app on a fresh test database (PGlite, or a PostgreSQL schema when
// DATABASE_URL is set), with helpers to seed accounts and resources through the real stores.
import request from 'supertest';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { addResource } from '../../src/resources/store.ts';
import type { NewResource } from '../../src/resources/schema.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { flushFailureWrites } from '../../src/oidc/failure-events.ts';
import { createMigratedTestDb } from './test-db.ts';

export const ISSUER = 'http://localhost:4000';
const ISSUER_HOST = new URL(ISSUER).host;
/** Fixed secrets for test servers: a second app over the same database must share them. */
export const TEST_SECRETS = { cookieKeys: ['k'.repeat(40)], keyEncryptionSecret: 's'.repeat(40) };
export const PASSWORD = 'correct horse battery staple';

export async function createTestApp(environment: Record<string, string> = {}) {
  const testDb = await createMigratedTestDb();
  const config: Config = loadConfig({ ISSUER, ...environment });
  const secrets = TEST_SECRETS;
  const { app, provider, signingKeys, appRoutes, pipeline, close: closeApp } = await createApp({ config, db: testDb.db, secrets });
  // One listening server per app so every supertest agent talks to the same koa instance.
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    db: testDb.db,
    config,
    provider,
    signingKeys,
    appRoutes,
    pipeline,
    server,
    // Requests carry the issuer's Host, as they do in production: oidc-provider builds endpoint URLs
    // from the request's origin.
    /** A client with its own cookie jar: one browser. */
    browser: () => request.agent(server).set('Host', ISSUER_HOST),
    /** A client without cookies (an MCP client's back channel). */
    http: () => request.agent(server).set('Host', ISSUER_HOST),
    addUser: (email = `user-${Math.random().toString(36).slice(2)}@example.com`, password = PASSWORD) =>
      addAccount(testDb.db, { email, password }),
    addResource: (resource: NewResource) => addResource(testDb.db, resource, config.accessTokenTtlSeconds),
    async close() {
      await flushAuditWrites();
      await flushFailureWrites();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeApp();
      await testDb.cleanup();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

export const notesResource = (uri = 'https://mcp.example.com/mcp'): NewResource => ({
  uri,
  name: 'Notes MCP',
  scopes: [
    { scope: 'notes:read', risk: 'read', description: 'Read your notes' },
    { scope: 'notes:write', risk: 'write', description: 'Add notes' },
    { scope: 'notes:delete', risk: 'irreversible', description: 'Delete all notes' },
  ],
});

/** The setup most HTTP suites share: a fresh app with the notes resource at `uri` and one person who can sign in. */
export async function createNotesTestApp(uri = 'https://mcp.example.com/mcp', environment: Record<string, string> = {}) {
  const app = await createTestApp(environment);
  await app.addResource(notesResource(uri));
  const email = (await app.addUser()).email;
  return { app, email };
}
