// The backstop behind the input boundary: a value the database itself refuses (SQLSTATE class 22, on
// PGlite and PostgreSQL alike) becomes 400 invalid_request, never a 500, and its transaction leaves nothing.
import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/db.ts';
import { isRefusedByDatabase } from '../../src/db/invalid-input.ts';
import { errorBoundary } from '../../src/errors.ts';
import { createMigratedTestDb } from '../helpers/test-db.ts';

let db: Db;
let cleanup: () => Promise<void>;
let server: Server;
beforeAll(async () => {
  ({ db, cleanup } = await createMigratedTestDb());
  await db.query('CREATE TABLE backstop_probe (note text NOT NULL)');
  // A route that writes one row, then hands the database a value it cannot take, in one transaction.
  const app = new Koa();
  app.use(errorBoundary());
  app.use(async (ctx) => {
    const value = ctx.query.value as string;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO backstop_probe (note) VALUES ($1)', ['written first']);
      await tx.query(ctx.query.sql as string, [value]);
    });
    ctx.body = { ok: true };
  });
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}, 60_000);
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await cleanup?.();
});

// Statements a real store could send with outside data; each fails with a class-22 SQLSTATE.
const refusals: Array<[string, string, string]> = [
  ['NUL in text', 'SELECT $1::text', 'a\u0000b'],
  ['a lone surrogate in jsonb', 'SELECT $1::jsonb', '"\\ud800"'],
  ['NUL escaped in jsonb', 'SELECT $1::jsonb', '{"a":"\\u0000"}'],
  ['year 0', 'SELECT $1::timestamptz', '0000-01-01T00:00:00Z'],
  ['a date of year 10000 written with a sign', 'SELECT $1::timestamptz', '+010000-01-01T00:00:00Z'],
  ['an integer out of range', 'SELECT $1::int', '99999999999'],
  ['a number that is not one', 'SELECT $1::bigint', '1e400'],
];

describe('database refusals', () => {
  it.each(refusals)('%s is recognised as refused input', async (_label, sql, value) => {
    const error = await db.query(sql, [value]).then(() => undefined, (caught: unknown) => caught);
    expect(error, 'the database accepted it').toBeDefined();
    expect(isRefusedByDatabase(error)).toBe(true);
    // Through a wrapper's `cause`, as our stores sometimes rethrow.
    expect(isRefusedByDatabase(new Error('wrapped', { cause: error }))).toBe(true);
  });

  it('a bug (a syntax error, a missing table) is not mistaken for bad input', async () => {
    for (const sql of ['SELEC 1', 'SELECT * FROM no_such_table']) {
      const error = await db.query(sql).then(() => undefined, (caught: unknown) => caught);
      expect(isRefusedByDatabase(error)).toBe(false);
    }
  });

  it.each(refusals)('%s through a route is 400 invalid_request, with the transaction rolled back', async (_label, sql, value) => {
    const response = await request(server).get('/').query({ sql, value }).set('Accept', 'application/json');
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.text).not.toMatch(/SQLSTATE|invalid byte sequence|unsupported Unicode|22P05|22021|22008|timestamp|integer/i);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM backstop_probe');
    expect(rows[0]!.n).toBe(0);
  });

  it('a browser gets a 400 page, not a 500', async () => {
    const response = await request(server).get('/').query({ sql: 'SELECT $1::text', value: '\u0000' }).set('Accept', 'text/html');
    expect(response.status).toBe(400);
    expect(response.type).toBe('text/html');
  });
});
