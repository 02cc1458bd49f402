// Anonymous /auth requests cannot grow the database without bound: starting a sign-in (a stored
// Interaction) is limited per address, the live Interaction rows of all addresses are capped, and the
// purge removes expired rows as fast as they come. On PGlite and PostgreSQL.
import { afterEach, describe, expect, it } from 'vitest';
import { purgeExpiredRows } from '../../src/oidc/purge.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, pkcePair, registerClient } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let apps: TestApp[] = [];
afterEach(async () => { await Promise.all(apps.map((app) => app.close())); apps = []; });

async function floodApp(environment: Record<string, string>) {
  const app = await createTestApp({ TRUST_PROXY: 'true', ...environment });
  apps.push(app);
  await app.addResource(notesResource(NOTES));
  const clientId = (await registerClient(app)).client_id;
  const startSignIn = (address: string) => app.http().set('X-Forwarded-For', address)
    .get(authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  const liveInteractions = async () => (await app.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Interaction' AND expires_at > now()`)).rows[0]!.n;
  return { app, startSignIn, liveInteractions };
}

describe('a flood of /auth requests', () => {
  it('is limited per address: past AUTH_MAX_PER_IP, 429 with Retry-After and no row; other addresses go on', async () => {
    const { startSignIn, liveInteractions } = await floodApp({ AUTH_MAX_PER_IP: '5', AUTH_RATE_WINDOW_SECONDS: '3600' });
    for (let i = 0; i < 5; i += 1) expect((await startSignIn('198.51.100.1')).status).toBe(303);
    for (let i = 0; i < 5; i += 1) {
      const refused = await startSignIn('198.51.100.1');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.headers.location).toBeUndefined(); // never redirected to the client
    }
    expect(await liveInteractions()).toBe(5);
    expect((await startSignIn('203.0.113.2')).status).toBe(303);
    expect(await liveInteractions()).toBe(6);
  });

  it('from many addresses, stops at AUTH_MAX_PENDING_INTERACTIONS live rows', async () => {
    const { startSignIn, liveInteractions } = await floodApp({ AUTH_MAX_PENDING_INTERACTIONS: '10' });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i += 1) statuses.push((await startSignIn(`198.51.${100 + i}.9`)).status);
    expect(statuses.filter((status) => status === 303)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    expect(await liveInteractions()).toBe(10);
  });

  it('the purge keeps up: one run removes every expired row, not one batch', async () => {
    const { app } = await floodApp({});
    await app.db.query(
      `INSERT INTO oidc_models (model, id, payload, expires_at)
       SELECT 'Interaction', 'flood-' || n, '{}'::jsonb, now() - interval '1 minute' FROM generate_series(1, 2600) AS n`);
    expect(await purgeExpiredRows(app.db, 1000)).toBe(2600);
    const { rows } = await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_models WHERE id LIKE 'flood-%'`);
    expect(rows[0]!.n).toBe(0);
  });
});
