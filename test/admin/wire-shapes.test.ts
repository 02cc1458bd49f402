// The CLI and the admin API hand out signing keys, audit events, accounts, clients and resources in one wire form
// (issue 15), and a change names its operator as the audit actor, whichever front end made it: the CLI, the console or a token.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectClient } from '../helpers/portal.ts';
import { notesResource } from '../helpers/test-app.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from './helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: AdminTestApp;

beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
  await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
}, 120_000);
afterAll(async () => { await app?.close(); });

/** What `audit export` prints on stdout, one parsed object per line (its count goes to stderr). */
async function auditExportLines(since: string): Promise<Record<string, unknown>[]> {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await runCommand(app.db, ['audit', 'export', '--since', since]);
  } finally {
    write.mockRestore();
    errors.mockRestore();
  }
  return printed.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const actorsOf = async (type: string) => (await app.db.query<{ actor_type: string; actor_id: string | null }>(
  'SELECT actor_type, actor_id FROM audit_events WHERE event_type = $1 ORDER BY id', [type])).rows;
const eventsOf = async (type: string) => (await app.db.query<{ actor_type: string; actor_id: string | null; details: Record<string, unknown> }>(
  'SELECT actor_type, actor_id, details FROM audit_events WHERE event_type = $1 ORDER BY id', [type])).rows;

describe('one wire form per record', () => {
  it('`keys list --json` and GET /admin/api/keys give the same keys, field for field', async () => {
    const cli = await runCommand(app.db, ['keys', 'list', '--json']);
    const api = await app.api().get('/admin/api/keys');
    expect(api.status).toBe(200);
    expect(api.body.keys.length).toBeGreaterThan(0);
    expect(cli.keys).toEqual(api.body.keys);
  });

  it('`audit export` prints each event exactly as GET /admin/api/audit returns it', async () => {
    const api = await app.api().get('/admin/api/audit?limit=200');
    expect(api.status).toBe(200);
    const exported = await auditExportLines('2000-01-01');
    expect(exported.length).toBeGreaterThan(0);
    const byId = new Map(exported.map((event) => [event.id, event]));
    for (const event of api.body.events as Record<string, unknown>[]) expect(byId.get(event.id)).toEqual(event);
    // The names both use, the admin API's: `type` (not `event_type`), the account's email, the actor and user agent.
    const consent = exported.find((event) => event.type === 'consent.granted')!;
    expect(consent).toMatchObject({ account_id: app.user.id, account_email: app.user.email, actor_type: 'user' });
    expect(Object.keys(consent)).not.toContain('event_type');
    expect(Object.keys(consent)).toEqual(expect.arrayContaining(['actor_id', 'user_agent', 'request_id']));
  });
});

describe('one wire form per account', () => {
  it('`user list --json` and GET /admin/api/users give the same accounts, field for field', async () => {
    const cli = await runCommand(app.db, ['user', 'list', '--json']);
    const api = await app.api().get('/admin/api/users');
    expect(api.status).toBe(200);
    expect(api.body.users.length).toBeGreaterThanOrEqual(2);
    expect(cli.users).toEqual(api.body.users);
    // The person who connected a client has signed in and holds a grant: the activity fields are filled in.
    const person = api.body.users.find((user: { id: string }) => user.id === app.user.id);
    expect(person).toMatchObject({ status: 'active', disabled: false, last_sign_in_at: expect.any(String) });
    expect(person.grants).toBeGreaterThanOrEqual(1);
  });

  it('`user add --json` prints the head of the account the admin API hands out for it', async () => {
    const added = await runCommand(app.db, ['user', 'add', '--email', 'wire-cli@example.com', '--password', 'a long passphrase']);
    const created = await app.api().post('/admin/api/users').send({ email: 'wire-api@example.com', password: 'a long passphrase' });
    expect(created.status).toBe(201);
    const listed = (await app.api().get('/admin/api/users')).body.users as Record<string, unknown>[];
    expect(listed.find((user) => user.id === added.id)).toMatchObject(added);
    expect(listed.find((user) => user.id === created.body.user.id)).toEqual(created.body.user);
    expect(Object.keys(added)).toEqual(Object.keys(created.body.user).slice(0, 3));
  });
});

describe('account changes name their operator', () => {
  it('as the admin from the console, the token from the API, and `cli` from the CLI', async () => {
    const browser = await app.adminBrowser();
    await followConsole(browser, await postConsoleForm(browser, '/admin/users', { email: 'op-console@example.com', password: 'a long passphrase' }));
    expect((await app.api().post('/admin/api/users').send({ email: 'op-api@example.com', password: 'a long passphrase' })).status).toBe(201);
    await runCommand(app.db, ['user', 'add', '--email', 'op-cli@example.com', '--password', 'a long passphrase']);
    expect((await actorsOf('account.created')).slice(-3)).toEqual([
      { actor_type: 'operator', actor_id: app.admin.id },
      { actor_type: 'operator', actor_id: expect.stringMatching(/^admin_token:/) },
      { actor_type: 'operator', actor_id: 'cli' },
    ]);

    const person = await app.addUser();
    await followConsole(browser, await postConsoleForm(browser, '/admin/users/disable', { account_id: person.id }));
    expect((await app.api().post(`/admin/api/users/${person.id}/enable`)).status).toBe(200);
    expect((await app.api().post(`/admin/api/users/${person.id}/password`).send({ password: 'another long passphrase' })).status).toBe(200);
    expect([...(await actorsOf('account.disabled')).slice(-1), ...(await actorsOf('account.enabled')).slice(-1), ...(await actorsOf('account.password_reset')).slice(-1)])
      .toEqual([
        { actor_type: 'operator', actor_id: app.admin.id },
        { actor_type: 'operator', actor_id: expect.stringMatching(/^admin_token:/) },
        { actor_type: 'operator', actor_id: expect.stringMatching(/^admin_token:/) },
      ]);
  });
});

describe('key changes name their operator', () => {
  it('as the admin from the console, the token from the API, and `cli` from the CLI', async () => {
    const browser = await app.adminBrowser();
    await followConsole(browser, await postConsoleForm(browser, '/admin/keys/rotate', { now: 'on' }));
    expect((await app.api().post('/admin/api/keys/rotate').send({ now: true })).status).toBe(201);
    await runCommand(app.db, ['keys', 'rotate', '--now']);
    expect((await actorsOf('keys.rotated')).slice(-3)).toEqual([
      { actor_type: 'operator', actor_id: app.admin.id },
      { actor_type: 'operator', actor_id: expect.stringMatching(/^admin_token:/) },
      { actor_type: 'operator', actor_id: 'cli' },
    ]);

    const keys = (await app.api().get('/admin/api/keys')).body.keys as { kid: string; status: string }[];
    const [first, second] = keys.filter((key) => key.status === 'verifying');
    expect((await app.api().post(`/admin/api/keys/${first!.kid}/retire`).send({ force: true })).status).toBe(200);
    const retired = await runCommand(app.db, ['keys', 'retire', `--kid=${second!.kid}`, '--force']);
    expect(retired.key).toMatchObject({ kid: second!.kid, status: 'retired' });
    expect((await actorsOf('keys.retired')).slice(-2)).toEqual([
      { actor_type: 'operator', actor_id: expect.stringMatching(/^admin_token:/) },
      { actor_type: 'operator', actor_id: 'cli' },
    ]);
  });
});

describe('one wire form per client and resource', () => {
  it('`resource list --json` and GET /admin/api/resources give the same resources, field for field', async () => {
    const cli = await runCommand(app.db, ['resource', 'list', '--json']);
    const api = await app.api().get('/admin/api/resources');
    expect(api.status).toBe(200);
    expect(api.body.resources).toEqual([expect.objectContaining({ uri: NOTES, status: 'active', client_access: 'any', last_check: null })]);
    expect(cli.resources).toEqual(api.body.resources);
  });

  it('`client list --json` and GET /admin/api/clients give the same clients, field for field', async () => {
    const cli = await runCommand(app.db, ['client', 'list', '--json']);
    const api = await app.api().get('/admin/api/clients');
    expect(api.status).toBe(200);
    expect(api.body.clients.length).toBeGreaterThan(0);
    expect(cli.clients).toEqual(api.body.clients);
    expect(Object.keys(api.body.clients[0])).toEqual(expect.arrayContaining(['client_id_issued_at', 'replays_last_30_days']));
  });

  it('`resource add --json` answers as POST /admin/api/resources does, a skipped check included', async () => {
    const cli = await runCommand(app.db, ['resource', 'add', '--uri', 'https://cli-made.example.com/mcp', '--name', 'CLI made',
      '--scope', 'a:read=read', '--no-check', '--json']);
    const api = await app.api().post('/admin/api/resources')
      .send({ uri: 'https://api-made.example.com/mcp', name: 'API made', scopes: [{ scope: 'a:read', risk: 'read' }], check: false });
    expect(api.status).toBe(201);
    const skipped = { status: 'skipped', metadata_url: null, warnings: [], note: null };
    expect(cli).toEqual({ resource: { ...api.body.resource, uri: 'https://cli-made.example.com/mcp', name: 'CLI made' }, check: skipped });
    expect(api.body.check).toEqual(skipped);
  });

  it('client disable, enable and delete answer alike from the CLI and the API', async () => {
    const viaCli = await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
    const viaApi = await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
    const pairs = [
      [await runCommand(app.db, ['client', 'disable', `--id=${viaCli.clientId}`]), (await app.api().post(`/admin/api/clients/${viaApi.clientId}/disable`)).body],
      [await runCommand(app.db, ['client', 'enable', `--id=${viaCli.clientId}`]), (await app.api().post(`/admin/api/clients/${viaApi.clientId}/enable`)).body],
      [await runCommand(app.db, ['client', 'delete', `--id=${viaCli.clientId}`]), (await app.api().delete(`/admin/api/clients/${viaApi.clientId}`)).body],
    ] as const;
    expect(pairs.map(([cli]) => cli)).toEqual([
      { client_id: viaCli.clientId, status: 'disabled', changed: true, grants_revoked: 1 },
      { client_id: viaCli.clientId, status: 'active', changed: true },
      { client_id: viaCli.clientId, deleted: true, grants_revoked: 0 },
    ]);
    for (const [cli, api] of pairs) expect({ ...api, client_id: viaCli.clientId }).toEqual(cli);
  });
});

describe('client and resource changes name their operator', () => {
  it('as the admin from the console, the token from the API, and `cli` from the CLI', async () => {
    const clients = await Promise.all([0, 1, 2].map(() => connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' })));
    const browser = await app.adminBrowser();
    await followConsole(browser, await postConsoleForm(browser, '/admin/clients/disable', { client_id: clients[0]!.clientId }));
    expect((await app.api().post(`/admin/api/clients/${clients[1]!.clientId}/disable`)).status).toBe(200);
    await runCommand(app.db, ['client', 'disable', `--id=${clients[2]!.clientId}`]);
    expect((await eventsOf('client.disabled')).slice(-3)).toEqual([
      { actor_type: 'operator', actor_id: app.admin.id, details: { actor: app.admin.id, via: 'console', grants_revoked: 1 } },
      { actor_type: 'operator', actor_id: expect.stringMatching(/^admin_token:/), details: expect.objectContaining({ via: 'api', grants_revoked: 1 }) },
      { actor_type: 'operator', actor_id: 'cli', details: { actor: 'cli', grants_revoked: 1 } },
    ]);

    await followConsole(browser, await postConsoleForm(browser, '/admin/resources', {
      uri: 'https://console-made.example.com/mcp', name: 'Console made', ttl: '', token_format: 'jwt', client_access: 'any',
      scope_0: 'c:read', risk_0: 'read', description_0: '',
    }));
    await runCommand(app.db, ['resource', 'add', '--uri', 'https://cli-actor.example.com/mcp', '--name', 'CLI', '--scope', 'c:read=read', '--no-check']);
    const registered = await eventsOf('resource.registered');
    expect(registered.slice(-2)).toEqual([
      { actor_type: 'operator', actor_id: app.admin.id, details: { actor: app.admin.id, via: 'console', name: 'Console made', client_access: 'any', dpop: 'allowed' } },
      { actor_type: 'operator', actor_id: 'cli', details: { actor: 'cli', name: 'CLI', client_access: 'any', dpop: 'allowed' } },
    ]);
  });
});
