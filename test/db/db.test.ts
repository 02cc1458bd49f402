// The Db contract both engines must keep: queries, row counts, value types, transactions and exec.
// Runs on PostgreSQL when DATABASE_URL is set and on in-memory PGlite otherwise.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { createTestDb, type TestDb } from '../helpers/test-db.ts';

let testDb: TestDb;
let db: Db;

beforeEach(async () => {
  testDb = await createTestDb();
  db = testDb.db;
  await db.exec(`
    CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL UNIQUE, meta jsonb, at timestamptz);
    CREATE TABLE counters (n bigint NOT NULL);
  `);
});

afterEach(async () => {
  await testDb.cleanup();
});

async function bodies(): Promise<string[]> {
  const result = await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
  return result.rows.map((row) => row.body);
}

describe(`Db (${process.env.DATABASE_URL ? 'postgres' : 'pglite'})`, () => {
  it('runs parameterised queries and reports row counts like pg', async () => {
    const inserted = await db.query('INSERT INTO notes (body) VALUES ($1), ($2)', ['a', 'b']);
    expect(inserted.rowCount).toBe(2);
    const updated = await db.query('UPDATE notes SET body = body || $1 WHERE body = $2', ['!', 'a']);
    expect(updated.rowCount).toBe(1);
    const none = await db.query('DELETE FROM notes WHERE body = $1', ['missing']);
    expect(none.rowCount).toBe(0);
    const selected = await db.query<{ body: string }>('SELECT body FROM notes ORDER BY body');
    expect(selected.rows).toEqual([{ body: 'a!' }, { body: 'b' }]);
    expect(selected.rowCount).toBe(2);
  });

  it('returns the same JavaScript values on both engines', async () => {
    const at = new Date('2025-01-02T03:04:05.678Z');
    await db.query('INSERT INTO notes (body, meta, at) VALUES ($1, $2, $3)', ['x', JSON.stringify({ k: [1] }), at]);
    await db.query('INSERT INTO counters (n) VALUES ($1)', [9_007_199_254_740_991]);
    const note = await db.query<{ meta: unknown; at: Date; total: number }>(
      'SELECT meta, at, (SELECT count(*) FROM notes) AS total FROM notes',
    );
    expect(note.rows[0]).toEqual({ meta: { k: [1] }, at, total: 1 });
    const counter = await db.query<{ n: number }>('SELECT n FROM counters');
    expect(counter.rows[0]?.n).toBe(9_007_199_254_740_991);
    // Past 2^53 a number would silently lose digits, so reading it fails loudly instead.
    await db.query('UPDATE counters SET n = n + 2');
    await expect(db.query('SELECT n FROM counters')).rejects.toThrow(RangeError);
  });

  it('commits a transaction that resolves and returns its value', async () => {
    const value = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes (body) VALUES ($1)', ['kept']);
      const inside = await tx.query('SELECT body FROM notes');
      return inside.rowCount;
    });
    expect(value).toBe(1);
    expect(await bodies()).toEqual(['kept']);
  });

  it('rolls back a transaction that throws, leaving no row, and rethrows the error', async () => {
    const failure = new Error('changed my mind');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes (body) VALUES ($1)', ['gone']);
        await tx.exec(`INSERT INTO notes (body) VALUES ('also gone'); INSERT INTO counters VALUES (1)`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await bodies()).toEqual([]);
    expect((await db.query('SELECT n FROM counters')).rowCount).toBe(0);
  });

  it('rolls back when a statement fails, and the database stays usable', async () => {
    await db.query('INSERT INTO notes (body) VALUES ($1)', ['first']);
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes (body) VALUES ($1)', ['second']);
        await tx.query('INSERT INTO notes (body) VALUES ($1)', ['first']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await bodies()).toEqual(['first']);
    await db.transaction((tx) => tx.query('INSERT INTO notes (body) VALUES ($1)', ['third']));
    expect(await bodies()).toEqual(['first', 'third']);
  });

  it('runs concurrent transactions without mixing their statements', async () => {
    // On PGlite these queue; on Postgres they run on separate connections. Either way each one's
    // rollback must take only its own rows with it.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO notes (body) VALUES ($1)', [`n${i}`]);
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (i % 2 === 1) throw new Error(`odd ${i}`);
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((await bodies()).sort()).toEqual(['n0', 'n2', 'n4']);
  });
});
