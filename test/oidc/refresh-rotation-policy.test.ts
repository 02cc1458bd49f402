// The rotation policy's statements against a real database, raced from two pools on PostgreSQL (two
// processes) or on PGlite's one session: whatever wins, one usable successor remains, or none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import { rotateRefreshToken } from '../../src/oidc/refresh-rotation-policy.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

const GRACE = 10;
const ROUNDS = 200;
let testDb: TestDb;
let pools: Db[];
let tokens: InstanceType<ReturnType<typeof createAdapterClass>>;
let sequence = 0;

beforeAll(async () => {
  testDb = await createMigratedTestDb();
  pools = [testDb.db, testDb.secondPool?.() ?? testDb.db];
  tokens = new (createAdapterClass(testDb.db, { refreshGraceSeconds: GRACE }))('RefreshToken');
});
afterAll(async () => testDb?.cleanup());

/** Rotates `from` into a new successor on `db`; resolves to the successor's id, or rejects (lost). */
async function rotate(db: Db, from: string, grantId: string): Promise<string> {
  const id = `rt-${sequence += 1}`;
  const expiresAt = new Date(Date.now() + 3600_000);
  await rotateRefreshToken(db, undefined, from, {
    values: ['RefreshToken', id, JSON.stringify({ grantId }), grantId, null, null, expiresAt], grantId, expiresAt,
  }, GRACE);
  return id;
}

/** What oidc-provider would read: a stored, unconsumed token. */
const usable = async (id: string) => {
  const payload = await tokens.find(id);
  return payload !== undefined && payload.consumed === undefined;
};

async function chainHead(round: number): Promise<{ head: string; grantId: string }> {
  const grantId = `grant-${round}-${sequence += 1}`;
  const head = `head-${grantId}`;
  await tokens.upsert(head, { grantId }, 3600);
  return { head, grantId };
}

describe('refresh rotation policy', () => {
  it(`${ROUNDS} rounds of 5 retries of one token over two pools: all answered, exactly one successor usable`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const { head, grantId } = await chainHead(round);
      const successors = await Promise.all([0, 1, 2, 3, 4].map((i) => rotate(pools[i % 2]!, head, grantId)));
      const live = (await Promise.all(successors.map(usable))).filter(Boolean).length;
      expect(live, `round ${round}`).toBe(1);
      expect(await usable(head)).toBe(true); // still retryable: its live successor is unused
    }
  }, 120_000);

  it(`${ROUNDS} rounds of a retry racing the use of the successor it would supersede: one wins, one chain`, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const { head, grantId } = await chainHead(round);
      const first = await rotate(pools[0]!, head, grantId);
      const [retry, use] = await Promise.allSettled([rotate(pools[round % 2]!, head, grantId), rotate(pools[(round + 1) % 2]!, first, grantId)]);
      expect([retry.status, use.status].sort(), `round ${round}`).toEqual(['fulfilled', 'rejected']);
      const loser = [retry, use].find((result) => result.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toMatchObject({ error: 'invalid_grant' });
      const winner = [retry, use].find((result) => result.status === 'fulfilled') as PromiseFulfilledResult<string>;
      expect(await usable(winner.value)).toBe(true);
      if (winner === retry) expect(await usable(first)).toBe(false); // superseded
      else expect(await usable(head)).toBe(false); // its successor was used: a retry is now a replay
    }
  }, 120_000);

  it('a superseded successor cannot be rotated even when presented first after the retry', async () => {
    const { head, grantId } = await chainHead(-1);
    const superseded = await rotate(testDb.db, head, grantId);
    const current = await rotate(testDb.db, head, grantId);
    await expect(rotate(testDb.db, superseded, grantId)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await usable(current)).toBe(true);
    expect(await usable(superseded)).toBe(false);
  });
});
