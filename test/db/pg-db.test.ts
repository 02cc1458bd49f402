// The pg implementation's connection settings: a schema for isolation added to, not replacing, the
// startup options a DATABASE_URL already carries.
import { describe, expect, it } from 'vitest';
import { createPgDb } from '../../src/db/pg-db.ts';
import { isDatabaseUnavailable } from '../../src/db/database-unavailable.ts';

describe.runIf(Boolean(process.env.DATABASE_URL))('createPgDb on PostgreSQL', () => {
  it('keeps the URL’s startup options and adds search_path', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', '-c statement_timeout=12345');
    const db = createPgDb(url.toString(), { searchPath: 'pg_catalog' });
    try {
      const { rows } = await db.query<{ sp: string; timeout: string }>(
        "SELECT current_setting('search_path') AS sp, current_setting('statement_timeout') AS timeout", []);
      expect(rows[0]).toEqual({ sp: 'pg_catalog', timeout: '12345ms' });
    } finally {
      await db.close();
    }
  });

  it('sets statement_timeout from the option, which cancels a slow statement as "database unavailable", while migrations lift it', async () => {
    const db = createPgDb(process.env.DATABASE_URL!, { statementTimeoutMillis: 300 });
    try {
      const { rows } = await db.query<{ timeout: string }>("SELECT current_setting('statement_timeout') AS timeout", []);
      expect(rows[0]!.timeout).toBe('300ms');
      const started = Date.now();
      const error = await db.query('SELECT pg_sleep(5)', []).then(() => undefined, (caught: unknown) => caught);
      expect(error).toMatchObject({ code: '57014' });
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(Date.now() - started).toBeLessThan(4_000);
      // What lockMigrations does inside each migration's transaction: the limit is gone for it alone.
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL statement_timeout = 0');
        await tx.query('SELECT pg_sleep(0.5)');
      });
    } finally {
      await db.close();
    }
  });
});
