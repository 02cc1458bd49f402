// The failure store on real PGlite and PostgreSQL: values PostgreSQL refuses (NUL, unpaired surrogates)
// and oversized ones are stored cleaned and capped, each client keeps at most MAX_FAILURES_PER_CLIENT
// rows whoever sends the failures, and the purge drops failures not seen for 30 days.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureError, captureRequest, MAX_VALUE_LENGTH, type FailedRequest } from '../../src/diagnostics/capture.ts';
import { listFailuresOfClient, MAX_FAILURES_PER_CLIENT, purgeOldFailures, recordFailure } from '../../src/diagnostics/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

let testDb: TestDb;
beforeAll(async () => { testDb = await createMigratedTestDb(); });
afterAll(async () => { await testDb?.cleanup(); });

const failure = (clientId: string, resource: string): FailedRequest => ({
  clientId, endpoint: 'authorization',
  ...captureError({ error: 'invalid_target', error_description: `resource ${JSON.stringify(resource)} is not registered here` }),
  request: captureRequest('authorization', { resource, redirect_uri: resource, scope: resource }, false),
});

describe('client_failures', () => {
  it('stores what PostgreSQL would refuse, cleaned, and caps every value', async () => {
    const hostile = `https://x.example/\u0000\uD800${'z'.repeat(5000)}`;
    await recordFailure(testDb.db, {
      ...failure('hostile', hostile), ...captureError({ error: 'invalid_request', error_description: 'a \u0000 b \uDC00', error_detail: '\uD800' }),
    });
    const [stored] = await listFailuresOfClient(testDb.db, 'hostile');
    expect(stored!.request.redirect_uri).toHaveLength(MAX_VALUE_LENGTH);
    expect(stored!.request.redirect_uri!.startsWith('https://x.example/\uFFFD\uFFFDzzz')).toBe(true);
    expect(stored!.request.resource![0]).toBe(stored!.request.redirect_uri);
    expect(stored).toMatchObject({ errorDescription: 'a \uFFFD b \uFFFD', errorDetail: '\uFFFD' });
  });

  it('counts a repeat on its row and keeps at most MAX_FAILURES_PER_CLIENT rows per client, the latest', async () => {
    await recordFailure(testDb.db, failure('busy', 'https://a.example/0'));
    await recordFailure(testDb.db, failure('busy', 'https://a.example/0'));
    expect((await listFailuresOfClient(testDb.db, 'busy'))[0]).toMatchObject({ occurrences: 2 });
    for (let i = 1; i <= MAX_FAILURES_PER_CLIENT + 10; i += 1) await recordFailure(testDb.db, failure('busy', `https://a.example/${i}`));
    await recordFailure(testDb.db, failure('other', 'https://a.example/other'));
    const { rows } = await testDb.db.query<{ client_id: string; n: number }>(
      'SELECT client_id, count(*)::int AS n FROM client_failures WHERE client_id IN ($1, $2) GROUP BY client_id ORDER BY client_id', ['busy', 'other']);
    expect(rows).toEqual([{ client_id: 'busy', n: MAX_FAILURES_PER_CLIENT }, { client_id: 'other', n: 1 }]);
    const kept = await listFailuresOfClient(testDb.db, 'busy');
    expect(kept[0]!.request.resource).toEqual([`https://a.example/${MAX_FAILURES_PER_CLIENT + 10}`]);
    expect(kept.map((f) => f.request.resource![0])).not.toContain('https://a.example/0');
  });

  it('purges failures not seen for 30 days', async () => {
    await recordFailure(testDb.db, failure('old', 'https://old.example'));
    await recordFailure(testDb.db, failure('old', 'https://recent.example'));
    await testDb.db.query(`UPDATE client_failures SET last_at = now() - interval '31 days' WHERE client_id = 'old' AND request->>'scope' = 'https://old.example'`);
    expect(await purgeOldFailures(testDb.db)).toBe(1);
    expect((await listFailuresOfClient(testDb.db, 'old')).map((f) => f.request.scope)).toEqual(['https://recent.example']);
  });
});
