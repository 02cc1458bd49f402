// `client list / disable / enable / delete` against a live app: the commands' own code runs in this
// process on the app's database, and the effect is checked where clients feel it, over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { parseOptions, splitCommandLine } from '../../src/cli/args.ts';
import { clientCommands } from '../../src/cli/clients.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { authorizeQuery, exchangeCode, follow, obtainCode, pkcePair, refresh, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const RESOURCE = notesResource().uri;
let app: TestApp;
beforeAll(async () => { app = await createTestApp(); await app.addResource(notesResource()); });
afterAll(async () => app?.close());

/** Runs a client command as src/cli.ts would, on the app's database; returns its --json rendering. */
async function cli(...argv: string[]) {
  const { words, rest } = splitCommandLine(argv);
  const command = clientCommands.find((c) => c.name === words.join(' '));
  if (!command) throw new Error(`no command ${words.join(' ')}`);
  const args = parseOptions(command.name, rest, { ...command.options, json: { type: 'boolean' } });
  return command.run({ config: app.config, db: app.db, applied: [] }, args);
}

type Listed = { client_id: string; source: string; status: string; first_seen_at: string | null; last_used_at: string | null; grants: number; client_id_issued_at: number };
const listed = async (clientId: string) =>
  ((await cli('client', 'list')).json.clients as Listed[]).find((c) => c.client_id === clientId);

async function tokensFor(clientId: string) {
  const user = await app.addUser();
  const browser = app.browser();
  const { code, verifier } = await obtainCode(app, browser, user.email, { clientId, resource: RESOURCE, scope: 'notes:read' });
  const tokens = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: RESOURCE });
  expect(tokens.status, tokens.text).toBe(200);
  await flushAuditWrites();
  return { refreshToken: tokens.body.refresh_token as string, browser, email: user.email };
}

const liveGrantRows = async (clientId: string) => (await app.db.query(
  `SELECT 1 FROM oidc_models WHERE (model = 'Grant' AND payload->>'clientId' = $1) OR (model = 'RefreshToken' AND payload->>'clientId' = $1)`,
  [clientId])).rowCount;

async function expectRefused(clientId: string, refreshToken: string) {
  const token = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
  expect(token.status).toBe(401);
  expect(token.body.error).toBe('invalid_client');
  const page = await app.browser().get(authorizeQuery({ clientId, state: 's', resource: RESOURCE, codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  expect(page.status).toBe(400);
  expect(page.headers.location).toBeUndefined();
}

describe('client add: redirect URI forms', () => {
  it('registers a private-use scheme in reversed-domain form as a native app, and refuses one without a dot', async () => {
    const added = await cli('client', 'add', '--name', 'Desktop', '--redirect-uri', 'com.example.desktop:/callback');
    const { rows } = await app.db.query<{ payload: { application_type: string } }>(
      `SELECT payload FROM oidc_models WHERE model = 'Client' AND id = $1`, [String(added.json.client_id)]);
    expect(rows[0]!.payload.application_type).toBe('native');
    await expect(cli('client', 'add', '--name', 'Bad', '--redirect-uri', 'desktop:/callback')).rejects.toThrow(/private-use scheme in reversed-domain form/);
    await expect(cli('client', 'add', '--name', 'Bad', '--redirect-uri', 'javascript:alert(1)')).rejects.toThrow(/must use https/);
  });
});

describe('client list', () => {
  it('shows source, first seen, and last used once a token was issued, with the grant count', async () => {
    const { client_id: clientId } = await registerClient(app);
    const fresh = await listed(clientId);
    expect(fresh).toMatchObject({ source: 'dynamic_registration', status: 'active', last_used_at: null, grants: 0 });
    expect(new Date(fresh!.first_seen_at!).getTime()).toBe(fresh!.client_id_issued_at * 1000);

    const before = Date.now();
    await tokensFor(clientId);
    const used = await listed(clientId);
    expect(used?.grants).toBe(1);
    expect(new Date(used!.last_used_at!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    const text = (await cli('client', 'list')).text.split('\n');
    expect(text[0]).toMatch(/^CLIENT_ID\s+NAME\s+TYPE\s+SOURCE\s+STATUS\s+FIRST_SEEN\s+LAST_USED\s+GRANTS\s+REDIRECT_URIS$/);
    expect(text.find((line) => line.startsWith(clientId))).toMatch(/dynamic_registration\s+active\s+\S+Z\s+\S+Z\s+1\s+http/);
  });
});

describe('client disable / enable', () => {
  it('disable refuses token requests and authorizations with invalid_client and ends the client\'s grants', async () => {
    const { client_id: clientId } = await registerClient(app);
    const { refreshToken } = await tokensFor(clientId);
    const pending = await tokensFor(clientId).then(async ({ browser, email }) =>
      obtainCode(app, browser, email, { clientId, resource: RESOURCE, scope: 'notes:read' }));
    expect(await liveGrantRows(clientId)).toBeGreaterThan(0);

    const result = await cli('client', 'disable', `--id=${clientId}`);
    expect(result.json).toEqual({ client_id: clientId, status: 'disabled', changed: true, grants_revoked: 2 });
    await expectRefused(clientId, refreshToken);
    const exchange = await exchangeCode(app, { client_id: clientId, code: pending.code!, code_verifier: pending.verifier, resource: RESOURCE });
    expect(exchange.status).toBe(401);
    expect(exchange.body.error).toBe('invalid_client');
    expect(await liveGrantRows(clientId)).toBe(0);
    expect(await listed(clientId)).toMatchObject({ status: 'disabled', grants: 0 });
    const events = await listAuditEvents(app.db, { type: 'client.disabled' });
    expect(events.find((e) => e.client_id === clientId)?.details).toEqual({ actor: 'cli', grants_revoked: 2 });

    expect((await cli('client', 'disable', `--id=${clientId}`)).json).toMatchObject({ changed: false });
  });

  it('enable lets the client authorize again, with a new approval; the ended grants stay ended', async () => {
    const { client_id: clientId } = await registerClient(app);
    const { refreshToken, browser } = await tokensFor(clientId);
    await cli('client', 'disable', `--id=${clientId}`);
    expect((await cli('client', 'enable', `--id=${clientId}`)).json).toEqual({ client_id: clientId, status: 'active', changed: true });

    const old = await refresh(app, { client_id: clientId, refresh_token: refreshToken });
    expect(old.status).toBe(400);
    expect(old.body.error).toBe('invalid_grant');
    const page = await follow(browser, authorizeQuery({ clientId, state: 's', resource: RESOURCE, scope: 'notes:read', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="decision"');
    await tokensFor(clientId);
    expect(await listed(clientId)).toMatchObject({ status: 'active', grants: 1 });
  });
});

describe('client delete', () => {
  it('removes the client with its grants and tokens; it gets invalid_client and must register again', async () => {
    const { client_id: clientId } = await registerClient(app);
    const { refreshToken } = await tokensFor(clientId);
    expect((await cli('client', 'delete', `--id=${clientId}`)).json).toEqual({ client_id: clientId, deleted: true, grants_revoked: 1 });
    await expectRefused(clientId, refreshToken);
    expect(await liveGrantRows(clientId)).toBe(0);
    expect(await listed(clientId)).toBeUndefined();
    const events = await listAuditEvents(app.db, { type: 'client.deleted' });
    expect(events.find((e) => e.client_id === clientId)?.details).toEqual({ actor: 'cli', grants_revoked: 1 });
    await expect(cli('client', 'delete', `--id=${clientId}`)).rejects.toThrow(`no registered client with id ${clientId}`);
  });

  it('deletes a disabled client too', async () => {
    const { client_id: clientId } = await registerClient(app);
    await cli('client', 'disable', `--id=${clientId}`);
    expect((await cli('client', 'delete', `--id=${clientId}`)).json).toMatchObject({ deleted: true });
    await expect(cli('client', 'enable', `--id=${clientId}`)).rejects.toThrow('no registered client');
  });

  it('refuses a metadata-document client_id with a pointer to the domain policy', async () => {
    await expect(cli('client', 'disable', '--id', 'https://app.example.com/client.json')).rejects.toThrow(/Client ID Metadata Document.*domain/);
    // Self-registered client_ids may start with '-': the CLI says how to pass one.
    await expect(cli('client', 'disable', '--id', '-starts-with-a-dash')).rejects.toThrow(/--id's value starts with '-': write it as --id=VALUE/);
  });
});
