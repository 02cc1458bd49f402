// RESOURCE_CACHE_SECONDS: how long a resource read from the database keeps serving authorization and
// token requests. A resource disabled from another process (here: straight in the table, as the CLI
// would) is refused at once with 0, and is still served from the cache within the window otherwise.
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { loadConfig } from '../../src/config.ts';
import { connectClient } from '../helpers/portal.ts';
import { refresh } from '../helpers/oauth-flow.ts';

const apps: TestApp[] = [];
afterAll(async () => { await Promise.all(apps.map((app) => app.close())); });

async function connectedThenDisabled(environment: Record<string, string>) {
  const app = await createTestApp(environment);
  apps.push(app);
  const uri = 'https://cached.example.com/mcp';
  await app.addResource(notesResource(uri));
  const user = await app.addUser();
  const connected = await connectClient(app, app.browser(), user.email, { resource: uri, scope: 'notes:read' });
  await app.db.query('UPDATE resources SET disabled_at = now() WHERE uri = $1', [uri]);
  return { app, connected };
}

describe('RESOURCE_CACHE_SECONDS', () => {
  it('0: a resource disabled elsewhere refuses the very next refresh with invalid_target', async () => {
    const { app, connected } = await connectedThenDisabled({ RESOURCE_CACHE_SECONDS: '0' });
    const refused = await refresh(app, { client_id: connected.clientId, refresh_token: connected.refreshToken });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
  });

  it('300: within the window the cached resource still serves a refresh, as the README says', async () => {
    const { app, connected } = await connectedThenDisabled({ RESOURCE_CACHE_SECONDS: '300' });
    const served = await refresh(app, { client_id: connected.clientId, refresh_token: connected.refreshToken });
    expect(served.status, JSON.stringify(served.body)).toBe(200);
  });

  it('refuses a value outside 0–300 at start, naming the setting', () => {
    expect(() => loadConfig({ ISSUER, RESOURCE_CACHE_SECONDS: '301' })).toThrow(/RESOURCE_CACHE_SECONDS/);
  });
});
