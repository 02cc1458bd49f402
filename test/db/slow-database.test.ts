// A database that is slow for real makes requests fail fast with 503 + Retry-After, not hang: on
// PostgreSQL another session holds locks on every table (statement_timeout, then the pool's wait for
// a connection); on PGlite another transaction holds its one session (the queue-wait bound).
import pg from 'pg';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/db.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPgDb } from '../../src/db/pg-db.ts';
import { openPgliteDb } from '../../src/db/pglite-db.ts';
import { createMigratedTestDb } from '../helpers/test-db.ts';
import { ISSUER, TEST_SECRETS } from '../helpers/test-app.ts';

const STATEMENT_TIMEOUT_MS = 1_000;
// Generous for a busy 2-core machine, and still far below the 20–30 s a queued request used to wait.
const ANSWER_WITHIN_MS = 8_000;
const databaseUrl = process.env.DATABASE_URL;

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** The app's database with the server's timeouts, and a way to make it slow from outside the app. */
async function slowableDatabase(): Promise<{ db: Db; makeSlow(): Promise<() => Promise<void>> }> {
  if (databaseUrl) {
    const testDb = await createMigratedTestDb();
    cleanups.push(() => testDb.cleanup());
    const { rows } = await testDb.db.query<{ schema: string }>('SELECT current_schema() AS schema');
    const schema = rows[0]!.schema;
    const db = createPgDb(databaseUrl, { searchPath: schema, max: 2, statementTimeoutMillis: STATEMENT_TIMEOUT_MS, connectionTimeoutMillis: STATEMENT_TIMEOUT_MS });
    cleanups.push(() => db.close());
    return {
      db,
      async makeSlow() {
        // Another session (an operator's long migration, a stuck batch job) locks every table but the
        // migrations list, so /readyz's own query still answers.
        const holder = new pg.Client({ connectionString: databaseUrl });
        await holder.connect();
        const tables = await holder.query<{ name: string }>(
          `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`, [schema]);
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE ${tables.rows.map((row) => row.name).join(', ')} IN ACCESS EXCLUSIVE MODE`);
        return async () => { await holder.query('ROLLBACK'); await holder.end(); };
      },
    };
  }
  const db = await openPgliteDb(undefined, { queueWaitMillis: STATEMENT_TIMEOUT_MS });
  cleanups.push(() => db.close());
  await migrate(db);
  return {
    db,
    async makeSlow() {
      // PGlite is one session: a transaction that stays open (a CLI command through the socket does
      // the same) makes every other query wait for its turn.
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => { finish = resolve; });
      let started!: () => void;
      const holding = new Promise<void>((resolve) => { started = resolve; });
      const transaction = db.transaction(async (tx) => { await tx.query('SELECT 1'); started(); await finished; });
      await holding;
      return async () => { finish(); await transaction; };
    },
  };
}

describe('a slow database', () => {
  it('answers 503 + Retry-After within the deadline, several requests at once, and normally afterwards', async () => {
    const { db, makeSlow } = await slowableDatabase();
    const { app, close } = await createApp({ config: loadConfig({ ISSUER, REQUEST_DEADLINE_MS: '5000' }), db, secrets: TEST_SECRETS });
    cleanups.push(close);
    const server = app.callback();
    const http = () => request.agent(server).set('Host', 'localhost:4000');
    const registered = await http().post('/reg').send({
      client_name: 'Slow DB test', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    });
    expect(registered.status).toBe(201);
    const clientId = registered.body.client_id as string;
    const tokenRequest = () => http().post('/token').type('form').timeout(20_000)
      .send({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'not-a-real-token' });
    const authorizePage = () => http().get('/auth').accept('html').timeout(20_000)
      .query({ client_id: clientId, response_type: 'code', redirect_uri: 'http://127.0.0.1:33418/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: 'openid' });

    const release = await makeSlow();
    let released = false;
    cleanups.push(async () => { if (!released) await release(); });
    const started = Date.now();
    // More requests than the pool has connections: the ones waiting for a connection fail fast too.
    const answers = await Promise.all([tokenRequest(), tokenRequest(), tokenRequest(), authorizePage()]);
    const elapsed = Date.now() - started;
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
    }
    expect(answers[0]!.body.error).toBe('temporarily_unavailable');
    expect(elapsed).toBeLessThan(ANSWER_WITHIN_MS);

    released = true;
    await release();
    const after = await tokenRequest();
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
  }, 60_000);
});
