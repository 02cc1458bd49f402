// Separate processes on one database behave as one server: real `src/main.ts` processes and the real CLI.
// On PostgreSQL two servers: a code from one is redeemed at the other, a revoke at one holds at the other,
// and a key rotated or retired by the CLI is served by both. Embedded PGlite belongs to one server process
// by design, so there the second process is the CLI (through the server's socket): the key part only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createSandbox, parseJsonOutput, startServer, type RunningServer, type Sandbox } from '../cli/harness.ts';
import { authorizeQuery, decide, follow, pkcePair, REDIRECT_URI, signIn } from '../helpers/oauth-flow.ts';
import { PASSWORD } from '../helpers/test-app.ts';

const ISSUER = 'http://localhost:4000';
const RESOURCE = 'https://mcp.example.com/mcp';
const onPostgres = Boolean(process.env.DATABASE_URL);

let sandbox: Sandbox;
let servers: RunningServer[] = [];
beforeAll(async () => {
  sandbox = await createSandbox();
  // What several servers behind one load balancer share: the issuer, cookie keys and key encryption secret.
  Object.assign(sandbox.env, {
    ISSUER, COOKIE_KEYS: 'c'.repeat(40), KEY_ENCRYPTION_SECRET: 'e'.repeat(40), KEY_REFRESH_SECONDS: '1', LOG_LEVEL: 'warn',
  });
  servers = await Promise.all(Array.from({ length: onPostgres ? 2 : 1 }, () => startServer(sandbox)));
  for (const args of [
    ['user', 'add', '--email', 'alice@example.com', '--password', PASSWORD],
    ['resource', 'add', '--uri', RESOURCE, '--name', 'Notes', '--scope', 'notes:read=read', '--no-check'],
  ]) expect((await sandbox.cli(args)).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await sandbox?.cleanup();
});

/** A client of one server process that sends the shared issuer's Host, as a load balancer would pass it on. */
const agentOf = (server: RunningServer): TestAgent => request.agent(server.baseUrl).set('Host', new URL(ISSUER).host);

async function registerAt(server: RunningServer): Promise<string> {
  const response = await agentOf(server).post('/reg').send({ client_name: 'Two-process client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.client_id as string;
}

async function codeFrom(server: RunningServer, clientId: string) {
  const browser = agentOf(server);
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({ clientId, resource: RESOURCE, scope: 'notes:read', state: 'st', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  page = await signIn(browser, new URL(page.request.url).pathname, 'alice@example.com');
  if (page.status === 200) page = await decide(browser, new URL(page.request.url).pathname, 'approve');
  expect(page.status, page.text).toBe(303);
  return { code: new URL(page.headers.location as string).searchParams.get('code')!, verifier: pkce.verifier };
}

const tokenAt = (server: RunningServer, form: Record<string, string>) => agentOf(server).post('/token').type('form').send(form);

async function tokensFrom(server: RunningServer) {
  const clientId = await registerAt(server);
  const { code, verifier } = await codeFrom(server, clientId);
  const token = await tokenAt(server, { grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT_URI });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return { clientId, accessToken: token.body.access_token as string };
}

const jwksOf = async (server: RunningServer) => (await agentOf(server).get('/jwks')).body as JSONWebKeySet;
const publishedKids = async (server: RunningServer) => (await jwksOf(server)).keys.map((key) => key.kid);

/** Polls every server until `check` holds for its published kids; KEY_REFRESH_SECONDS is 1 here. */
async function untilEveryServer(check: (kids: (string | undefined)[]) => boolean) {
  const deadline = Date.now() + 10_000;
  for (const server of servers) {
    while (!check(await publishedKids(server))) {
      if (Date.now() > deadline) throw new Error(`server ${server.baseUrl} publishes ${JSON.stringify(await publishedKids(server))}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('keys changed by the CLI reach every running server without a restart', () => {
  it('a rotation is published, then signs new tokens; a token signed before still verifies; a retirement unpublishes', async () => {
    const before = await tokensFrom(servers[0]!);
    const oldKid = decodeProtectedHeader(before.accessToken).kid!;
    // Published 4 s before it signs (KEY_PUBLISH_AHEAD_SECONDS, 60 by default).
    const rotated = await sandbox.cli(['keys', 'rotate', '--json'], { KEY_PUBLISH_AHEAD_SECONDS: '4' });
    expect(rotated.code, rotated.stderr).toBe(0);
    const { kids, activates_at: activatesAt } = parseJsonOutput(rotated) as { kids: string[]; activates_at: string };
    await untilEveryServer((published) => kids.every((kid) => published.includes(kid)));
    // Published, not signing yet (when this slow machine is still early enough to tell).
    const early = await tokensFrom(servers[0]!);
    if (Date.now() < Date.parse(activatesAt) - 500) expect(decodeProtectedHeader(early.accessToken).kid).toBe(oldKid);
    // Each server signs with the new keys within KEY_REFRESH_SECONDS (1 s here) of their activation.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(activatesAt) + 1500 - Date.now())));

    for (const server of servers) {
      const after = await tokensFrom(server);
      expect(kids).toContain(decodeProtectedHeader(after.accessToken).kid);
      const jwks = createLocalJWKSet(await jwksOf(server));
      await jwtVerify(after.accessToken, jwks, { issuer: ISSUER, audience: RESOURCE });
      await jwtVerify(before.accessToken, jwks, { issuer: ISSUER, audience: RESOURCE });
    }

    const listed = parseJsonOutput(await sandbox.cli(['keys', 'list', '--json'])).keys as { kid: string; status: string }[];
    expect(listed.find((key) => key.kid === oldKid)?.status).toBe('verifying');
    const signing = await sandbox.cli(['keys', 'retire', `--kid=${kids[0]!}`, '--force']);
    expect(signing.code).toBe(1);
    expect(signing.stderr).toMatch(/^error: signing key \S+ is the one that signs ES256 tokens: rotate first/);
    const refused = await sandbox.cli(['keys', 'retire', `--kid=${oldKid}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: signing key \S+ stopped signing at .* retire it after that, or force it/);
    const retired = await sandbox.cli(['keys', 'retire', `--kid=${oldKid}`, '--force', '--json']);
    expect(retired.code, retired.stderr).toBe(0);
    expect(parseJsonOutput(retired).key).toMatchObject({ kid: oldKid, status: 'retired' });
    await untilEveryServer((published) => !published.includes(oldKid));
  }, 120_000);
});

describe.skipIf(!onPostgres)('two server processes on one PostgreSQL', () => {
  it('a code issued by one is redeemed at the other, its refresh token rotates at either, and a revoke at one holds at the other', async () => {
    const [first, second] = servers as [RunningServer, RunningServer];
    const clientId = await registerAt(first);
    const { code, verifier } = await codeFrom(first, clientId);
    const token = await tokenAt(second, { grant_type: 'authorization_code', client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT_URI });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const rotated = await tokenAt(first, { grant_type: 'refresh_token', client_id: clientId, refresh_token: token.body.refresh_token });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);

    const revoked = await agentOf(first).post('/token/revocation').type('form').send({ client_id: clientId, token: rotated.body.refresh_token });
    expect(revoked.status).toBe(200);
    const refreshed = await tokenAt(second, { grant_type: 'refresh_token', client_id: clientId, refresh_token: rotated.body.refresh_token });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
  }, 180_000);
});
