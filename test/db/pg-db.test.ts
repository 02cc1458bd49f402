// The pg implementation's connection settings: a schema for isolation added to, not replacing, the
// startup options a DATABASE_URL already carries.
import { describe, expect, it } from 'vitest';
import { createPgDb } from '../../src/db/pg-db.ts';

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
});
