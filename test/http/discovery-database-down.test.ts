// While the database is down, every discovery URL and /jwks keep answering from what was last read:
// MCP clients and resource servers fetch them first, and a resource server needs /jwks to verify tokens.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addResource } from '../../src/resources/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { notesResource, TEST_SECRETS } from '../helpers/test-app.ts';
import { switchableDb, type SwitchableDb } from '../helpers/switchable-db.ts';

// An issuer with a path, so the path-inserted forms (RFC 8414 §3.1) are exercised too.
const ISSUER = 'http://localhost:4000/tenant';
const DOCUMENTS = [
  '/.well-known/oauth-authorization-server/tenant',
  '/.well-known/openid-configuration/tenant',
  '/tenant/.well-known/oauth-authorization-server',
  '/tenant/.well-known/openid-configuration',
];

describe('discovery and /jwks while the database is down', () => {
  let testDb: TestDb;
  let db: SwitchableDb;
  let server: ReturnType<Awaited<ReturnType<typeof createApp>>['app']['callback']>;
  let closeApp: () => Promise<void>;
  beforeAll(async () => {
    testDb = await createMigratedTestDb();
    db = switchableDb(testDb.db);
    const config = loadConfig({ ISSUER });
    await addResource(testDb.db, notesResource(), config.accessTokenTtlSeconds);
    const built = await createApp({ config, db, secrets: TEST_SECRETS });
    server = built.app.callback();
    closeApp = built.close;
  });
  afterAll(async () => { await closeApp?.(); await db?.close(); await testDb?.cleanup(); });

  const get = (path: string) => request(server).get(path).set('Host', 'localhost:4000');

  it('serves every metadata URL and the key set from what was last read, then fresh data once it is back', async () => {
    const before = new Map<string, unknown>();
    for (const path of DOCUMENTS) before.set(path, (await get(path).expect(200)).body);
    const jwks = (await get('/tenant/jwks').expect(200)).body;
    expect(jwks.keys.length).toBeGreaterThan(0);

    db.goDown();
    // The database really is gone: a page that needs it answers 503.
    expect((await get('/tenant/readyz')).status).toBe(503);
    for (const path of DOCUMENTS) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.body).toEqual(before.get(path));
      expect(response.body.scopes_supported).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    }
    const jwksWhileDown = await get('/tenant/jwks');
    expect(jwksWhileDown.status).toBe(200);
    expect(jwksWhileDown.body).toEqual(jwks);

    db.comeBack();
    await addResource(testDb.db, { uri: 'https://late.example/mcp', name: 'Late', scopes: [{ scope: 'late:read', risk: 'read', description: '' }] }, 300);
    const fresh = await get(DOCUMENTS[0]!).expect(200);
    expect(fresh.body.scopes_supported).toContain('late:read');
  });
});
