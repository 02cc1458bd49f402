// The memory figure's live grants (bench/grant-seed.ts) must be grants the server really serves: each
// copy's refresh token refreshes through the real app, rotates like a real one, is refused on reuse,
// and leaves the grant it was copied from working. Otherwise the figure would measure dead rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedGrants, seededId } from '../../bench/grant-seed.ts';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { connectClient, type ConnectedClient } from '../helpers/portal.ts';
import { refresh } from '../helpers/oauth-flow.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
let app: TestApp;
let source: ConnectedClient;

beforeAll(async () => {
  const created = await createNotesTestApp(RESOURCE);
  app = created.app;
  await expect(seedGrants(app.db, 'none', 1, 5)).rejects.toThrow(/no live grant/);
  source = await connectClient(app, app.browser(), created.email, { resource: RESOURCE, scope: 'notes:read' });
});
afterAll(async () => app?.close());

const count = async (model: string) =>
  (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oidc_models WHERE model = $1', [model])).rows[0]!.n;

describe('bench grant seeding', () => {
  it('writes a Grant row and a refresh token per copy, each under new ids', async () => {
    const grants = await count('Grant');
    const tokens = await count('RefreshToken');
    expect(await seedGrants(app.db, 'seed', 1, 40)).toBe(80);
    expect(await count('Grant')).toBe(grants + 40);
    expect(await count('RefreshToken')).toBe(tokens + 40);
    const { rows } = await app.db.query<{ grant_id: string; jti: string; grant_jti: string }>(
      `SELECT t.grant_id, t.payload->>'jti' AS jti, g.payload->>'jti' AS grant_jti FROM oidc_models t
       JOIN oidc_models g ON g.model = 'Grant' AND g.id = t.grant_id WHERE t.model = 'RefreshToken' AND t.id = $1`, [seededId('seed', 17)]);
    expect(rows).toEqual([{ grant_id: seededId('seed', 17, 'g'), jti: seededId('seed', 17), grant_jti: seededId('seed', 17, 'g') }]);
    expect(seededId('seed', 17)).toMatch(/^[\w-]{43}$/);
  });

  it('a copy refreshes like a real grant: a successor on its own grant, then invalid_grant on reuse', async () => {
    const first = await refresh(app, { client_id: source.clientId, refresh_token: seededId('seed', 3) });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.access_token).toEqual(expect.any(String));
    const successor = first.body.refresh_token as string;
    const { rows } = await app.db.query<{ grant_id: string }>(`SELECT grant_id FROM oidc_models WHERE model = 'RefreshToken' AND id = $1`, [successor]);
    expect(rows[0]?.grant_id).toBe(seededId('seed', 3, 'g'));
    expect((await refresh(app, { client_id: source.clientId, refresh_token: successor })).status).toBe(200);
    const replay = await refresh(app, { client_id: source.clientId, refresh_token: seededId('seed', 3) });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
  });

  it('leaves the grant it copied, and the other copies, working', async () => {
    expect((await refresh(app, { client_id: source.clientId, refresh_token: source.refreshToken })).status).toBe(200);
    expect((await refresh(app, { client_id: source.clientId, refresh_token: seededId('seed', 40) })).status).toBe(200);
    expect((await refresh(app, { client_id: source.clientId, refresh_token: seededId('seed', 41) })).status).toBe(400);
  });
});
