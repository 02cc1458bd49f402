// Refresh tokens: rotation on every use, an honest retry inside the grace window that leaves one usable
// successor, every other reuse revoking the whole grant (recorded and counted), and resource checks
// that never burn the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { exchangeCode, obtainCode, refresh, registerClient } from '../helpers/oauth-flow.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { refreshTokenState } from '../helpers/refresh-token-state.ts';

const NOTES = 'https://mcp.example.com/mcp';
const OTHER = 'https://other.example.com/mcp';
let app: TestApp;
let email: string;

const METRICS_TOKEN = 'm'.repeat(40);
beforeAll(async () => {
  app = await createTestApp({ METRICS_TOKEN });
  await app.addResource(notesResource(NOTES));
  await app.addResource({ uri: OTHER, name: 'Other', scopes: [{ scope: 'other:read', risk: 'read', description: '' }] });
  email = (await app.addUser()).email;
});
afterAll(async () => app?.close());

async function tokens() {
  const { client_id: clientId } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });
  const response = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
  expect(response.status).toBe(200);
  return { clientId, refreshToken: response.body.refresh_token as string };
}

/** Grants and refresh tokens of a client still stored (a revoked grant leaves none). */
async function liveRowsOf(clientId: string) {
  const { rows } = await app.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM oidc_models WHERE model IN ('RefreshToken', 'Grant') AND payload->>'clientId' = $1", [clientId]);
  return rows[0]!.n;
}

async function replaysRecordedFor(clientId: string) {
  await flushAuditWrites();
  const { rows } = await app.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM audit_events WHERE event_type = 'refresh_token.replay_detected' AND client_id = $1", [clientId]);
  return rows[0]!.n;
}

/** portcullis_refresh_token_replays_total, as Prometheus scrapes it. */
async function replayMetric() {
  await flushAuditWrites();
  const response = await app.http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(response.status).toBe(200);
  return Number(/^portcullis_refresh_token_replays_total (\d+)/m.exec(response.text)?.[1] ?? 'NaN');
}

/** Moves a consumed refresh token's consumption back in time: the clock, faked in the database. */
async function ageConsumption(seconds: number) {
  await app.db.query(`UPDATE oidc_models SET consumed_at = consumed_at - make_interval(secs => $1::int)
                      WHERE model = 'RefreshToken' AND consumed_at IS NOT NULL`, [seconds]);
}

describe('refresh token rotation', () => {
  it('every refresh returns a new refresh token and a fresh access token for the same resource', async () => {
    const { clientId, refreshToken } = await tokens();
    const first = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.refresh_token).not.toBe(refreshToken);
    expect(decodeJwt(first.body.access_token).aud).toBe(NOTES);
    const second = await refresh(app, { client_id: clientId, refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);
  });

  it('an honest retry within the grace window succeeds; its successor is the only one that keeps working', async () => {
    const { clientId, refreshToken } = await tokens();
    const lost = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(lost.status).toBe(200);
    // The client never saw `lost` (response cut off) and retries with the token it still has.
    const retry = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body.refresh_token).not.toBe(lost.body.refresh_token);
    // The chain goes on from the retry's successor, and nothing was revoked.
    const next = await refresh(app, { client_id: clientId, refresh_token: retry.body.refresh_token });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect((await refresh(app, { client_id: clientId, refresh_token: next.body.refresh_token })).status).toBe(200);
    expect(await replaysRecordedFor(clientId)).toBe(0);
  });

  it('a thief replaying a rotated token inside the window: the honest client\'s next refresh is a replay, the grant ends for both, audited and counted', async () => {
    const { clientId, refreshToken } = await tokens();
    const before = await replayMetric();
    const honest = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(honest.status).toBe(200);
    const thief = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(thief.status).toBe(200); // indistinguishable from an honest retry, so it is answered…
    // …and the successor it superseded is the honest client's: its use reveals the theft.
    const revealed = await refresh(app, { client_id: clientId, refresh_token: honest.body.refresh_token });
    expect(revealed.status).toBe(400);
    expect(revealed.body.error).toBe('invalid_grant');
    const thiefNext = await refresh(app, { client_id: clientId, refresh_token: thief.body.refresh_token });
    expect(thiefNext.body.error).toBe('invalid_grant');
    expect(await liveRowsOf(clientId)).toBe(0);
    expect(await replaysRecordedFor(clientId)).toBe(1);
    expect(await replayMetric()).toBe(before + 1);
  });

  it('once the successor has been used, the old token replayed inside the window revokes the grant', async () => {
    const { clientId, refreshToken } = await tokens();
    const rotated = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    const used = await refresh(app, { client_id: clientId, refresh_token: rotated.body.refresh_token });
    expect(used.status).toBe(200);
    const replay = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(app, { client_id: clientId, refresh_token: used.body.refresh_token })).body.error).toBe('invalid_grant');
    expect(await liveRowsOf(clientId)).toBe(0);
    expect(await replaysRecordedFor(clientId)).toBe(1);
  });

  it('concurrent refreshes with one token (clients sharing a credential store) all succeed', async () => {
    const { clientId, refreshToken } = await tokens();
    const results = await Promise.all([1, 2].map(() => refresh(app, { client_id: clientId, refresh_token: refreshToken })));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
  });

  it('a replay after the grace window revokes the whole grant and is recorded', async () => {
    const { clientId, refreshToken } = await tokens();
    const rotated = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(rotated.status).toBe(200);
    await ageConsumption(11);
    const replay = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // The legitimate successor dies with the grant.
    const successor = await refresh(app, { client_id: clientId, refresh_token: rotated.body.refresh_token });
    expect(successor.body.error).toBe('invalid_grant');
    const { rows } = await app.db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM oidc_models WHERE model IN ('RefreshToken', 'Grant') AND payload->>'clientId' = $1", [clientId]);
    expect(rows[0]!.n).toBe('0');
    await flushAuditWrites();
    const audit = await app.db.query("SELECT outcome FROM audit_events WHERE event_type = 'refresh_token.replay_detected' AND client_id = $1", [clientId]);
    expect(audit.rows).toEqual([{ outcome: 'failure' }]);
  });

  it('a refresh token is bound to its client', async () => {
    const { refreshToken } = await tokens();
    const other = await registerClient(app);
    const response = await refresh(app, { client_id: other.client_id, refresh_token: refreshToken });
    expect(response.body.error).toBe('invalid_grant');
  });

  it('an unknown refresh token is invalid_grant', async () => {
    const { clientId } = await tokens();
    const response = await refresh(app, { client_id: clientId, refresh_token: 'not-a-real-token' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_grant');
  });
});

describe('refresh and resource', () => {
  it('a refresh for another resource is refused and leaves the refresh token usable', async () => {
    const { clientId, refreshToken } = await tokens();
    for (const resource of [OTHER, 'https://unknown.example/mcp', [NOTES, OTHER]]) {
      const refused = await refresh(app, { client_id: clientId, refresh_token: refreshToken, resource });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_target');
    }
    // Long after any grace window, the token is still unconsumed: nothing above touched it.
    await ageConsumption(3600);
    const ok = await refresh(app, { client_id: clientId, refresh_token: refreshToken, resource: NOTES });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(decodeJwt(ok.body.access_token).aud).toBe(NOTES);
  });

  it('refresh cannot widen scope', async () => {
    const { clientId, refreshToken } = await tokens();
    const response = await refresh(app, { client_id: clientId, refresh_token: refreshToken, scope: 'notes:read notes:write' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_scope');
  });
});

describe('introspection and revocation', () => {
  it('an active refresh token is ended by revocation', async () => {
    const { clientId, refreshToken } = await tokens();
    expect(await refreshTokenState(app, refreshToken)).toMatchObject({ active: true, client_id: clientId });
    const revoked = await app.http().post('/token/revocation').type('form').send({ client_id: clientId, token: refreshToken });
    expect(revoked.status).toBe(200);
    expect(await refreshTokenState(app, refreshToken)).toEqual({ active: false });
    expect((await refresh(app, { client_id: clientId, refresh_token: refreshToken })).body.error).toBe('invalid_grant');
  });
});
