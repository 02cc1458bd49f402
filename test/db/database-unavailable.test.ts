// isDatabaseUnavailable: real connection failures are recognised (→ 503), query errors are not (→ bug).
// The unique-violation case runs on PostgreSQL or PGlite like the other db tests.
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseBusyError, isDatabaseUnavailable } from '../../src/db/database-unavailable.ts';
import type { Db } from '../../src/db/db.ts';
import { createPgDb } from '../../src/db/pg-db.ts';
import { createTestDb, type TestDb } from '../helpers/test-db.ts';

let cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  cleanups = [];
});

async function failureOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail');
}

describe('isDatabaseUnavailable', () => {
  it('recognises a refused connection from a pg Db (nothing listens on port 1)', async () => {
    const db: Db = createPgDb('postgres://postgres@127.0.0.1:1/postgres', { connectionTimeoutMillis: 2_000 });
    cleanups.push(() => db.close());
    const error = await failureOf(db.query('SELECT 1'));
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(await failureOf(db.transaction((tx) => tx.query('SELECT 1'))))).toBe(true);
  });

  it('recognises a missing unix socket (embedded server not running)', async () => {
    const db = createPgDb({ host: '/nonexistent-portcullis-dir', user: 'postgres', database: 'postgres' });
    cleanups.push(() => db.close());
    expect(isDatabaseUnavailable(await failureOf(db.query('SELECT 1')))).toBe(true);
  });

  it('does not treat a unique violation as unavailability', async () => {
    const testDb: TestDb = await createTestDb();
    cleanups.push(() => testDb.cleanup());
    await testDb.db.exec('CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1);');
    const error = await failureOf(testDb.db.query('INSERT INTO u VALUES ($1)', [1]));
    expect(error).toMatchObject({ code: '23505' });
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it.each([
    ['admin shutdown', { code: '57P01', message: 'terminating connection due to administrator command' }],
    ['crash shutdown', { code: '57P02', message: 'terminating connection because of crash' }],
    ['starting up', { code: '57P03', message: 'the database system is starting up' }],
    ['too many connections', { code: '53300', message: 'sorry, too many clients already' }],
    ['connection failure class 08', { code: '08006', message: 'connection failure' }],
    ['pg lost connection', new Error('Connection terminated unexpectedly')],
    ['pg connect timeout', new Error('timeout exceeded when trying to connect')],
    ['DNS failure', Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' })],
    ['reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['timeout', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
    ['IPv4+IPv6 attempts', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])],
    ['wrapped', new Error('Migration 0002 failed', { cause: { code: '57P01' } })],
    ['statement timeout', { code: '57014', message: 'canceling statement due to statement timeout' }],
    ['lock not available', { code: '55P03', message: 'could not obtain lock on relation' }],
    ['disk full', { code: '53100', message: 'could not extend file: No space left on device' }],
    ['out of memory', { code: '53200', message: 'out of memory' }],
    ['no space left (a file write)', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' })],
    ['PGlite queue wait gave up', new DatabaseBusyError(1000)],
  ])('recognises %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['unique violation', { code: '23505', message: 'duplicate key value violates unique constraint' }],
    ['syntax error', { code: '42601', message: 'syntax error at or near "SELEC"' }],
    ['missing table', { code: '42P01', message: 'relation "nope" does not exist' }],
    ['missing file', Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' })],
    ['plain error', new Error('something else')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('does not treat %s as unavailability', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
