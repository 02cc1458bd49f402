// PGlite runs one statement at a time: while another transaction holds it, a query gives up after the
// queue-wait bound with DatabaseBusyError (a 503), and the statement it gave up on never runs later.
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseBusyError, isDatabaseUnavailable } from '../../src/db/database-unavailable.ts';
import { openPgliteDb, type PgliteDb } from '../../src/db/pglite-db.ts';

let db: PgliteDb | undefined;
afterEach(async () => { await db?.close(); db = undefined; });

describe('PGlite queue wait', () => {
  it('refuses a query that waits too long, and never runs it once the holder is done', async () => {
    db = await openPgliteDb(undefined, { queueWaitMillis: 300 });
    await db.exec('CREATE TABLE notes (body text)');
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => { finish = resolve; });
    let holding!: () => void;
    const held = new Promise<void>((resolve) => { holding = resolve; });
    const holder = db.transaction(async (tx) => { await tx.query('SELECT 1'); holding(); await finished; });
    await held;

    const started = Date.now();
    const refused = await db.query("INSERT INTO notes VALUES ('too late')", []).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(DatabaseBusyError);
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(db.transaction((tx) => tx.query('SELECT 1'))).rejects.toBeInstanceOf(DatabaseBusyError);

    finish();
    await holder;
    await db.query("INSERT INTO notes VALUES ('on time')", []);
    const { rows } = await db.query<{ body: string }>('SELECT body FROM notes', []);
    expect(rows).toEqual([{ body: 'on time' }]);
  });

  it('without the bound, a query waits for its turn as before', async () => {
    db = await openPgliteDb(undefined);
    let finish!: () => void;
    const holder = db.transaction(() => new Promise<void>((resolve) => { finish = resolve; }));
    const waiting = db.query<{ one: number }>('SELECT 1 AS one', []);
    setTimeout(() => finish(), 500);
    expect((await waiting).rows).toEqual([{ one: 1 }]);
    await holder;
  });
});
