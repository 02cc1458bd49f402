// /readyz says whether this process can serve (database answers, migrations current) and /metrics
// exposes Prometheus metrics to holders of METRICS_TOKEN only.
import { afterEach, describe, expect, it } from 'vitest';
import { createPgDb } from '../../src/db/pg-db.ts';
import type { Db, Transaction } from '../../src/db/db.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { createMigratedTestDb } from '../helpers/test-db.ts';
import { decide, exchangeCode, follow, authorizeQuery, obtainCode, pkcePair, registerClient, refresh, signIn } from '../helpers/oauth-flow.ts';
import request from 'supertest';

const METRICS_TOKEN = 'm'.repeat(40);
const RESOURCE = 'https://mcp.example.com/mcp';
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  cleanups = [];
});

async function testApp(environment: Record<string, string> = {}): Promise<TestApp> {
  const app = await createTestApp(environment);
  cleanups.push(() => app.close());
  return app;
}

describe('/readyz', () => {
  it('is 200 when the database answers and every migration is applied', async () => {
    const app = await testApp();
    const response = await app.http().get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready' });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('is 503 naming the pending migrations when the database is behind the code', async () => {
    const app = await testApp();
    // As if this server's code were newer than its database: 0007 not applied yet.
    await app.db.query(`DELETE FROM schema_migrations WHERE version = '0007'`);
    const response = await app.http().get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ status: 'not_ready', reason: 'migrations_pending', pending: ['0007'] });
    expect((await app.http().get('/healthz')).status).toBe(200);
  });

  it('is 503 when the database does not answer, while /healthz stays 200', async () => {
    const testDb = await createMigratedTestDb();
    // The app's database goes away after start: its queries now reach a port where nothing listens.
    const down: Db = createPgDb('postgres://postgres@127.0.0.1:1/postgres', { connectionTimeoutMillis: 1_000 });
    let target: Db = testDb.db;
    const switchable: Db = {
      get kind() { return target.kind; },
      query: (sql, params) => target.query(sql, params),
      exec: (sql) => target.exec(sql),
      transaction: <T>(work: (tx: Transaction) => Promise<T>) => target.transaction(work),
      close: () => target.close(),
    };
    const { app, close } = await createApp({ config: loadConfig({ ISSUER }), db: switchable, secrets: TEST_SECRETS });
    const server = app.callback();
    cleanups.push(async () => { await close(); await down.close(); await testDb.cleanup(); });
    expect((await request(server).get('/readyz')).status).toBe(200);
    target = down;
    const response = await request(server).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ status: 'not_ready', reason: 'database_unavailable' });
    expect((await request(server).get('/healthz')).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('does not exist without METRICS_TOKEN', async () => {
    const app = await testApp();
    expect((await app.http().get('/metrics')).status).toBe(404);
  });

  it('refuses a missing or wrong bearer token with 401', async () => {
    const app = await testApp({ METRICS_TOKEN });
    for (const authorization of [undefined, `Bearer ${'x'.repeat(40)}`, `Basic ${METRICS_TOKEN}`, METRICS_TOKEN]) {
      const call = app.http().get('/metrics');
      const response = await (authorization ? call.set('Authorization', authorization) : call);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(response.text).not.toContain('portcullis_');
    }
  });

  it('counts requests by route template, tokens by grant type and resource, consents, replays, login failures and pool use', async () => {
    const app = await testApp({ METRICS_TOKEN, REFRESH_GRACE_SECONDS: '0' });
    await app.addResource(notesResource(RESOURCE));
    const { email } = await app.addUser();
    const { client_id: clientId } = await registerClient(app);
    const browser = app.browser();
    const { code, verifier } = await obtainCode(app, browser, email, { clientId, resource: RESOURCE, scope: 'notes:read' });
    const tokens = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: RESOURCE });
    await refresh(app, { client_id: clientId, refresh_token: tokens.body.refresh_token as string });
    await refresh(app, { client_id: clientId, refresh_token: tokens.body.refresh_token as string }); // replay
    // A denial and a failed sign-in from another browser.
    const other = app.browser();
    const pkce = pkcePair();
    const page = await follow(other, authorizeQuery({ clientId, resource: RESOURCE, scope: 'notes:read', state: 'x', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    const interaction = new URL(page.request.url).pathname;
    await other.post(`${interaction}/login`).type('form').send({ email, password: 'wrong', csrf: /name="csrf" value="([^"]*)"/.exec(page.text)?.[1] });
    const consent = await signIn(other, interaction, email);
    await decide(other, new URL(consent.request.url).pathname, 'deny');
    await flushAuditWrites();

    const response = await app.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.text;
    const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? 'NaN');
    expect(value(`portcullis_tokens_issued_total\\{grant_type="authorization_code",resource="${RESOURCE}"\\}`)).toBe(1);
    expect(value(`portcullis_tokens_issued_total\\{grant_type="refresh_token",resource="${RESOURCE}"\\}`)).toBe(1);
    expect(value('portcullis_consents_total\\{decision="granted"\\}')).toBe(1);
    expect(value('portcullis_consents_total\\{decision="denied"\\}')).toBe(1);
    expect(value('portcullis_refresh_token_replays_total')).toBe(1);
    expect(value('portcullis_login_failures_total\\{reason="bad_credentials"\\}')).toBe(1);
    expect(value('portcullis_http_request_duration_seconds_count\\{method="POST",route="token",status="200"\\}')).toBe(2);
    expect(value('portcullis_http_request_duration_seconds_count\\{method="POST",route="token",status="400"\\}')).toBe(1);
    expect(text).toMatch(/portcullis_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="token",status="200"\}/);
    expect(text).toMatch(/route="\/interaction\/:uid\/login"/);
    // Route templates only: no interaction uid, client id or query string becomes a label.
    expect(text).not.toMatch(/route="\/interaction\/[\w-]{10,}/);
    expect(text).not.toContain(clientId);
    expect(value('portcullis_db_pool_connections\\{state="total"\\}')).toBeGreaterThanOrEqual(1);
    if (app.db.kind === 'postgres') expect(text).toMatch(/^portcullis_db_pool_connections\{state="waiting"\} \d+$/m);
  });
});
