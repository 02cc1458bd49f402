// Refresh-token rotation under races and crashes, on two servers over one database (on PostgreSQL, two
// pools, as two processes would have): however requests interleave, at most one successor of a token
// still refreshes, honest retries keep the grant, and a thief's replay ends it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createServer, type Server } from 'node:http';
import type Provider from 'oidc-provider';
import { createApp, type PortcullisApp } from '../../src/app.ts';
import type { Db } from '../../src/db/db.ts';
import { createPgDb } from '../../src/db/pg-db.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { TEST_SECRETS, createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';

const ROUNDS = 200;
/** Rounds run this many at a time (each on its own grant), so the two servers stay busy together. */
const AT_ONCE = 4;

async function inBatches(work: (round: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < ROUNDS; start += AT_ONCE) {
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, ROUNDS - start) }, (_, i) => work(start + i)));
  }
}
const PARALLEL = 3;
let first: TestApp;
const others: Array<{ app: PortcullisApp; server: Server }> = [];
let secondDb: Db | undefined;
/** Token endpoints of the two servers, A and B. */
let servers: Array<(refreshToken: string) => Promise<request.Response>>;
let clientId: string;
let seedToken: string;

const tokenEndpoint = (server: Server) => (refreshToken: string) => request(server)
  .post('/token').set('Host', 'localhost:4000').type('form')
  .send(new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }).toString());

/** Another server (another process's app) over `db`, listening on its own port. */
async function startServer(db: Db) {
  const app = await createApp({ config: first.config, db, secrets: TEST_SECRETS });
  const server = createServer(app.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  others.push({ app, server });
  return server;
}

beforeAll(async () => {
  // Thousands of token requests from one address in a minute: the token rate limits are not under test.
  first = await createTestApp({ TOKEN_RATE_MAX_PER_IP: '10000000', TOKEN_RATE_MAX_PER_CLIENT: '10000000' });
  await first.addResource(notesResource());
  // The second server: on PostgreSQL its own pool on the same schema; PGlite is one in-process database.
  if (first.db.kind === 'postgres') {
    const { rows } = await first.db.query<{ schema: string }>('SELECT current_schema() AS schema');
    secondDb = createPgDb(process.env.DATABASE_URL!, { searchPath: rows[0]!.schema, max: 5 });
  }
  const second = await startServer(secondDb ?? first.db);
  const user = await first.addUser();
  ({ client_id: clientId } = await registerClient(first));
  const { code, verifier } = await obtainCode(first, first.browser(), user.email, { clientId, resource: 'https://mcp.example.com/mcp', scope: 'notes:read' });
  const exchanged = await exchangeCode(first, { client_id: clientId, code: code!, code_verifier: verifier });
  expect(exchanged.status).toBe(200);
  seedToken = exchanged.body.refresh_token;
  servers = [tokenEndpoint(second), tokenEndpoint(first.server)];
}, 60_000);
afterAll(async () => {
  await Promise.all(others.map(async ({ app, server }) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.close();
  }));
  await first?.close();
  await secondDb?.close();
});

/** A fresh grant with one refresh token, like the seed's (same person, client, resource and scope). */
let seeds: Promise<[Seed, SeedGrant, SeedClient]> | undefined;
type Seed = InstanceType<Provider['RefreshToken']>;
type SeedGrant = InstanceType<Provider['Grant']>;
type SeedClient = InstanceType<Provider['Client']>;

async function mintRefreshToken(): Promise<{ token: string; grantId: string }> {
  const { Grant, RefreshToken, Client } = first.provider;
  seeds ??= (async () => {
    const seed = (await RefreshToken.find(seedToken))!;
    return [seed, (await Grant.find(seed.grantId!))!, (await Client.find(clientId))!];
  })();
  const [seed, seedGrant, client] = await seeds;
  const grant = new Grant({ accountId: seedGrant.accountId!, clientId });
  for (const [resource, scope] of Object.entries(seedGrant.resources ?? {})) grant.addResourceScope(resource, scope as string);
  const grantId = await grant.save();
  const token = new RefreshToken({
    client, accountId: seed.accountId, grantId, scope: seed.scope,
    resource: seed.resource, gty: seed.gty, iiat: Math.floor(Date.now() / 1000),
  } as never);
  return { token: await token.save(), grantId };
}

/** Would the token endpoint accept this token now? (What oidc-provider reads: found, not consumed, not expired.) */
async function stillRefreshes(token: string): Promise<boolean> {
  const found = await first.provider.RefreshToken.find(token);
  return found !== undefined && !found.consumed && !found.isExpired;
}

const grantExists = async (grantId: string) => (await first.provider.Grant.find(grantId)) !== undefined;

async function replayEventsFor(grantIds: string[]): Promise<Set<string>> {
  await flushAuditWrites();
  const { rows } = await first.db.query<{ grant_id: string }>(
    "SELECT DISTINCT details->>'grant_id' AS grant_id FROM audit_events WHERE event_type = 'refresh_token.replay_detected' AND details->>'grant_id' = ANY($1)",
    [grantIds]);
  return new Set(rows.map((row) => row.grant_id));
}

describe('refresh token races', () => {
  it(`${ROUNDS} rounds of ${PARALLEL} parallel honest refreshes over two servers: all answered, one successor usable, the grant intact`, async () => {
    await inBatches(async (round) => {
      const { token, grantId } = await mintRefreshToken();
      const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => servers[i % 2]!(token)));
      expect(answers.map((answer) => answer.status), JSON.stringify(answers.map((a) => a.body))).toEqual(Array(PARALLEL).fill(200));
      const successors = answers.map((answer) => answer.body.refresh_token as string);
      const usable = (await Promise.all(successors.map(stillRefreshes))).filter(Boolean).length;
      expect(usable, `round ${round}`).toBe(1);
      expect(await grantExists(grantId)).toBe(true);
      // An attacker holding every successor: presenting them all at once continues at most one chain.
      const presented = await Promise.all(successors.map((successor, i) => servers[i % 2]!(successor)));
      expect(presented.filter((answer) => answer.status === 200).length, `round ${round}`).toBeLessThanOrEqual(1);
      expect(await grantExists(grantId)).toBe(false);
    });
  }, 240_000);

  it(`${ROUNDS} rounds of a thief replaying a rotated token while the honest client refreshes: the grant always ends`, async () => {
    const grantIds: string[] = [];
    await inBatches(async (round) => {
      const { token, grantId } = await mintRefreshToken();
      grantIds.push(grantId);
      const honest = await servers[round % 2]!(token);
      expect(honest.status).toBe(200);
      // The thief replays the old token on one server while the honest client uses its successor on the other.
      const [thief, honestNext] = await Promise.all([servers[round % 2]!(token), servers[(round + 1) % 2]!(honest.body.refresh_token)]);
      expect([thief.status, honestNext.status], `round ${round}`).toContain(400);
      expect(await grantExists(grantId)).toBe(false);
      const leftOver = [thief, honestNext].filter((answer) => answer.status === 200).map((answer) => answer.body.refresh_token as string);
      for (const successor of leftOver) expect(await stillRefreshes(successor)).toBe(false);
    });
    // Every round was recorded as a replay (audit trail; the metrics count these events).
    expect((await replayEventsFor(grantIds)).size).toBe(ROUNDS);
  }, 240_000);
});

describe('a refresh cut off by a crash', () => {
  it('the successor written but never delivered is superseded by the retry; presenting it later is a replay', async () => {
    // A server whose database connection dies right after the rotation was written: the client gets an
    // error instead of its new token, exactly as if the process had crashed before answering.
    let crashNext = true;
    const crashing: Db = Object.create(first.db);
    crashing.query = async (sql, params) => {
      const result = await first.db.query(sql, params);
      if (crashNext && /INSERT INTO oidc_models/.test(sql) && params?.includes('RefreshToken')) {
        crashNext = false;
        throw new Error('Connection terminated unexpectedly');
      }
      return result as never;
    };
    const crashed = await startServer(crashing);
    const { token, grantId } = await mintRefreshToken();
    const cutOff = await tokenEndpoint(crashed)(token);
    expect(cutOff.status).toBeGreaterThanOrEqual(500);
    expect(crashNext).toBe(false);
    const { rows } = await first.db.query<{ id: string }>(
      "SELECT id FROM oidc_models WHERE model = 'RefreshToken' AND grant_id = $1 AND id <> $2", [grantId, token]);
    expect(rows).toHaveLength(1);
    const undelivered = rows[0]!.id;
    expect(await stillRefreshes(undelivered)).toBe(true);

    const retry = await servers[0]!(token);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(await stillRefreshes(undelivered)).toBe(false);
    expect(await stillRefreshes(retry.body.refresh_token)).toBe(true);
    expect((await servers[1]!(retry.body.refresh_token)).status).toBe(200);
    expect(await grantExists(grantId)).toBe(true);
    // Nobody honest holds the undelivered token: whoever presents it stole it from storage.
    const stolen = await servers[0]!(undelivered);
    expect(stolen.body.error).toBe('invalid_grant');
    expect(await grantExists(grantId)).toBe(false);
    expect(await replayEventsFor([grantId])).toEqual(new Set([grantId]));
  });
});
