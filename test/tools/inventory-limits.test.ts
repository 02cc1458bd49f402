// What the inventory refuses to fetch (issue 14 §1): a loopback server unless CIMD_ALLOW_LOOPBACK, private and
// metadata addresses always, answers past the size cap; each a recorded failure, never a thrown error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRugPullServer, type RugPullServer } from '../../examples/rug-pull-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { getToolCatalog, refreshToolCatalog, toolServiceDeps } from '../../src/tools/service.ts';
import { createTestApp, ISSUER, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { fetchRoutingIssuerTo } from '../examples/mcp-http.ts';

let app: TestApp;
let files: RugPullServer;
const SCOPES = [{ scope: 'files:read', risk: 'read' as const }];
const deps = (over: { allowLoopback?: boolean; maxBytes?: number } = {}) =>
  ({ ...toolServiceDeps(app.db, app.config, TEST_SECRETS.keyEncryptionSecret), ...over });

beforeAll(async () => {
  app = await createTestApp({ CIMD_ALLOW_LOOPBACK: 'true' });
  files = await startRugPullServer({ issuer: ISSUER, client: { clientId: 'unused', clientSecret: 'unused' }, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource({ uri: files.url, name: 'Files', scopes: SCOPES });
  await app.addResource({ uri: 'http://169.254.169.254/mcp', name: 'Metadata service', scopes: SCOPES });
  await app.addResource({ uri: 'http://10.0.0.7/mcp', name: 'Private', scopes: SCOPES });
});
afterAll(async () => {
  await files?.close();
  await app?.close();
});

describe('inventory fetch limits', () => {
  it('lists a loopback server only when CIMD_ALLOW_LOOPBACK allows it', async () => {
    const refused = await refreshToolCatalog(deps({ allowLoopback: false }), files.url, CLI_OPERATOR);
    expect(refused.error).toMatch(/public internet address/);
    // The operator is told how to allow a development server.
    expect(refused.error).toContain('CIMD_ALLOW_LOOPBACK=true allows loopback in development');
    expect(refused.catalog.tools).toEqual([]);
    expect((await refreshToolCatalog(deps(), files.url, CLI_OPERATOR)).catalog.tools.map((t) => t.name)).toEqual(['read_file', 'write_file']);
  });

  it('never reaches a cloud metadata or private address, even with loopback allowed', async () => {
    for (const uri of ['http://169.254.169.254/mcp', 'http://10.0.0.7/mcp']) {
      const outcome = await refreshToolCatalog(deps(), uri, CLI_OPERATOR);
      expect(outcome.error).toBe('its host is not a public internet address');
      expect((await getToolCatalog(app.db, uri)).settings.lastRefreshError).toBe(outcome.error);
    }
  });

  it('gives up on an answer past the size cap and keeps the catalog as it was', async () => {
    const outcome = await refreshToolCatalog(deps({ maxBytes: 200 }), files.url, CLI_OPERATOR);
    expect(outcome.error).toMatch(/larger than 200 bytes/);
    expect(outcome.catalog.tools.map((t) => t.name)).toEqual(['read_file', 'write_file']);
  });
});
