// No access token lifetime below 120 s (clients refresh with 60 s left): migration 0015 raises stored
// resources, the database, the resource schema and ACCESS_TOKEN_TTL_SECONDS refuse anything shorter.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listMigrationFiles, migrate } from '../../src/db/migrate.ts';
import { loadConfig } from '../../src/config.ts';
import { addResource } from '../../src/resources/store.ts';
import { createTestDb, type TestDb } from '../helpers/test-db.ts';
import { notesResource } from '../helpers/test-app.ts';

let testDb: TestDb;
let dir: string;
beforeEach(async () => {
  testDb = await createTestDb();
  dir = await mkdtemp(join(tmpdir(), 'portcullis-ttl-floor-'));
});
afterEach(async () => {
  await testDb.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function copyMigrations(which: (version: string) => boolean): Promise<void> {
  for (const file of await listMigrationFiles()) {
    if (which(file.version)) await copyFile(file.path, join(dir, basename(file.path)));
  }
}

const ttlOf = async (uri: string) => (await testDb.db.query<{ access_token_ttl_seconds: number }>(
  'SELECT access_token_ttl_seconds FROM resources WHERE uri = $1', [uri])).rows[0]?.access_token_ttl_seconds;

describe('the access-token lifetime floor', () => {
  it('migration 0015 raises a stored 30 s resource to 120 s and the database refuses 60 s afterwards', async () => {
    await copyMigrations((version) => version < '0015');
    await migrate(testDb.db, dir);
    const insert = (uri: string, ttl: number) => testDb.db.query(
      `INSERT INTO resources (uri, name, access_token_ttl_seconds) VALUES ($1, 'Old', $2)`, [uri, ttl]);
    await insert('https://short.example.com/mcp', 30);
    await insert('https://long.example.com/mcp', 900);

    await copyMigrations((version) => version === '0015');
    expect(await migrate(testDb.db, dir)).toEqual(['0015']);
    expect(await ttlOf('https://short.example.com/mcp')).toBe(120);
    expect(await ttlOf('https://long.example.com/mcp')).toBe(900);
    await expect(insert('https://new.example.com/mcp', 60)).rejects.toThrow(/check constraint/i);
    expect(await ttlOf('https://new.example.com/mcp')).toBeUndefined();
  });

  it('a resource or the server default below 120 s is refused where it is configured', async () => {
    await copyMigrations(() => true);
    await migrate(testDb.db, dir);
    await expect(addResource(testDb.db, { ...notesResource('https://a.example.com/mcp'), accessTokenTtlSeconds: 60 }, 300)).rejects.toThrow();
    expect(await ttlOf('https://a.example.com/mcp')).toBeUndefined();
    await addResource(testDb.db, { ...notesResource('https://b.example.com/mcp'), accessTokenTtlSeconds: 120 }, 300);
    expect(await ttlOf('https://b.example.com/mcp')).toBe(120);
    expect(() => loadConfig({ ISSUER: 'http://localhost:4000', ACCESS_TOKEN_TTL_SECONDS: '60' })).toThrow(/ACCESS_TOKEN_TTL_SECONDS/);
    expect(loadConfig({ ISSUER: 'http://localhost:4000', ACCESS_TOKEN_TTL_SECONDS: '120' }).accessTokenTtlSeconds).toBe(120);
  });
});
