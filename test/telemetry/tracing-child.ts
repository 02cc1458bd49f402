// Run by tracing-processes.test.ts as a process of its own: tracing started from this process's environment as
// main.ts starts it, one app answering one token request; prints which OpenTelemetry packages loaded.
import { registerHooks } from 'node:module';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const otelModules = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    const name = /\/node_modules\/(@opentelemetry\/[^/]+)\//.exec(url)?.[1];
    if (name) otelModules.add(name);
    return nextLoad(url, context);
  },
});

// Imported only now, so the hook above sees every module they load.
const { loadConfig } = await import('../../src/config.ts');
const { startTracing, stopTracing } = await import('../../src/telemetry/tracing.ts');
const { createApp } = await import('../../src/app.ts');
const { createMigratedTestDb } = await import('../helpers/test-db.ts');
const { TEST_SECRETS } = await import('../helpers/test-app.ts');

const config = loadConfig({ ...process.env, ISSUER: 'http://localhost:4000' });
await startTracing(config.tracing);
const testDb = await createMigratedTestDb();
const { app, close } = await createApp({ config, db: testDb.db, secrets: TEST_SECRETS });
const server = createServer(app.callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
const response = await fetch(`http://127.0.0.1:${port}/token`, {
  method: 'POST', headers: { host: 'localhost:4000', 'content-type': 'application/x-www-form-urlencoded' },
  body: 'grant_type=authorization_code&code=nothing&client_id=nobody&code_verifier=nothing',
});
await new Promise<void>((resolve) => server.close(() => resolve()));
await close();
await stopTracing();
await testDb.cleanup();
console.log(JSON.stringify({ otelModules: [...otelModules].sort(), tokenStatus: response.status }));
