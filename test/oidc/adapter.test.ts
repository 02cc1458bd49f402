// The storage adapter against a real database: expiry honoured, lookups by uid, grant-wide
// revocation, atomic consumption, and the purge of expired rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import { purgeExpiredRows } from '../../src/oidc/purge.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

let testDb: TestDb;
let Adapter: ReturnType<typeof createAdapterClass>;
beforeAll(async () => {
  testDb = await createMigratedTestDb();
  Adapter = createAdapterClass(testDb.db, { refreshGraceSeconds: 10 });
});
afterAll(async () => testDb?.cleanup());

describe('oidc adapter', () => {
  it('stores, finds, and forgets a payload when it expires', async () => {
    const sessions = new Adapter('Session');
    await sessions.upsert('s1', { uid: 'uid-1', accountId: 'a1' }, 60);
    expect(await sessions.find('s1')).toMatchObject({ accountId: 'a1' });
    expect(await sessions.findByUid('uid-1')).toMatchObject({ accountId: 'a1' });
    await testDb.db.query("UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE id = 's1'");
    expect(await sessions.find('s1')).toBeUndefined();
    expect(await sessions.findByUid('uid-1')).toBeUndefined();
  });

  it('keeps payloads without an expiry (clients) until destroyed', async () => {
    const clients = new Adapter('Client');
    await clients.upsert('c1', { client_id: 'c1' });
    expect(await clients.find('c1')).toEqual({ client_id: 'c1' });
    await clients.destroy('c1');
    expect(await clients.find('c1')).toBeUndefined();
  });

  it('revokes every row of a grant in one model and leaves other grants alone', async () => {
    const tokens = new Adapter('RefreshToken');
    await tokens.upsert('r1', { grantId: 'g1' }, 60);
    await tokens.upsert('r2', { grantId: 'g1' }, 60);
    await tokens.upsert('r3', { grantId: 'g2' }, 60);
    await tokens.revokeByGrantId('g1');
    expect(await tokens.find('r1')).toBeUndefined();
    expect(await tokens.find('r2')).toBeUndefined();
    expect(await tokens.find('r3')).toBeDefined();
  });

  it('consumes a code exactly once, even when raced, and marks it consumed', async () => {
    const codes = new Adapter('AuthorizationCode');
    await codes.upsert('code-1', { grantId: 'g' }, 60);
    const results = await Promise.allSettled([codes.consume('code-1'), codes.consume('code-1'), codes.consume('code-1')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const rejected of results.filter((r) => r.status === 'rejected')) {
      expect((rejected as PromiseRejectedResult).reason).toMatchObject({ error: 'invalid_grant', statusCode: 400 });
    }
    expect((await codes.find('code-1'))?.consumed).toEqual(expect.any(Number));
  });

  it('a refresh token reads as unused inside the grace window and as consumed after it', async () => {
    const tokens = new Adapter('RefreshToken');
    await tokens.upsert('rt', { grantId: 'g3' }, 60);
    await tokens.consume('rt');
    expect((await tokens.find('rt'))?.consumed).toBeUndefined();
    await tokens.consume('rt'); // an honest retry inside the window may consume again
    await testDb.db.query("UPDATE oidc_models SET consumed_at = now() - interval '11 seconds' WHERE id = 'rt'");
    expect((await tokens.find('rt'))?.consumed).toEqual(expect.any(Number));
    await expect(tokens.consume('rt')).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('purges expired rows and keeps live ones', async () => {
    const interactions = new Adapter('Interaction');
    await interactions.upsert('old', {}, 60);
    await interactions.upsert('live', {}, 60);
    await testDb.db.query("UPDATE oidc_models SET expires_at = now() - interval '1 minute' WHERE id = 'old'");
    expect(await purgeExpiredRows(testDb.db)).toBeGreaterThanOrEqual(1);
    const { rows } = await testDb.db.query<{ id: string }>("SELECT id FROM oidc_models WHERE model = 'Interaction'");
    expect(rows.map((r) => r.id)).toEqual(['live']);
  });
});
