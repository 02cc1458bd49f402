// `client add` / `client list` through the real CLI: public and confidential clients, the secret shown
// exactly once and stored only as its sha256: digest, and redirect URI rules as usage errors.
import { TOKEN_EXCHANGE_GRANT } from '../../src/exchange/schema.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { findClientById, listClients } from '../../src/clients/store.ts';
import { listClientOverview } from '../../src/clients/overview.ts';
import type { Db } from '../../src/db/db.ts';
import { digestClientSecret } from '../../src/clients/secret.ts';
import { createSandbox, parseJsonOutput, type Sandbox } from './harness.ts';

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => { await sandbox.cleanup(); });

async function storedPayload(db: Db, clientId: string): Promise<{ text: string; payload: Record<string, unknown> }> {
  const { rows } = await db.query<{ text: string; payload: Record<string, unknown> }>(
    `SELECT payload::text AS text, payload FROM oidc_models WHERE model = 'Client' AND id = $1`, [clientId]);
  if (!rows[0]) throw new Error(`client ${clientId} not stored`);
  return rows[0];
}

describe('client add', () => {
  it('registers a public client in the shape oidc-provider reads, with no secret', async () => {
    const result = await sandbox.cli(['client', 'add', '--name', 'Desktop', '--redirect-uri', 'http://127.0.0.1:33418/callback']);
    expect(result.code).toBe(0);
    const clientId = /client_id:\s+(\S+)/.exec(result.stdout)?.[1];
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.stdout).not.toContain('client_secret');

    const { payload } = await sandbox.withDb((db) => storedPayload(db, clientId ?? ''));
    expect(payload).toEqual({
      client_id: clientId,
      client_name: 'Desktop',
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      client_id_issued_at: expect.any(Number),
      portcullis_source: 'operator',
      application_type: 'native',
    });
    const found = await sandbox.withDb((db) => findClientById(db, clientId ?? ''));
    expect(found).toEqual({
      clientId, name: 'Desktop', redirectUris: ['http://127.0.0.1:33418/callback'], authMethod: 'none',
      source: 'operator', issuedAt: expect.any(Date),
    });
  });

  it('prints a confidential client\'s secret once, and stores only its sha256: digest', async () => {
    const text = await sandbox.cli(['client', 'add', '--name', 'Web app', '--confidential',
      '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri', 'https://app.example.com/cb2']);
    expect(text.code).toBe(0);
    const secret = /client_secret:\s+(\S+)/.exec(text.stdout)?.[1] ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(text.stdout.split(secret)).toHaveLength(2);
    expect(text.stdout).toContain('cannot be shown again');

    const json = await sandbox.cli(['client', 'add', '--name', 'Service', '--confidential',
      '--redirect-uri', 'https://svc.example.com/cb', '--json']);
    const output = parseJsonOutput(json);
    expect(output).toEqual({
      client_id: expect.any(String),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_name: 'Service',
      redirect_uris: ['https://svc.example.com/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });

    const clientId = String(output.client_id);
    const plain = String(output.client_secret);
    const { text: rowText, payload } = await sandbox.withDb((db) => storedPayload(db, clientId));
    expect(payload.client_secret).toBe(digestClientSecret(plain));
    expect(payload.client_secret).toMatch(/^sha256:/);
    expect(payload.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(rowText).not.toContain(plain);
    // Nor anywhere else: the audit trail records the registration, never the secret.
    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'client.registered' }));
    expect(events.find((e) => e.client_id === clientId)?.details).toEqual({ actor: 'cli' });
    expect(JSON.stringify(events)).not.toContain(plain);

    const listed = parseJsonOutput(await sandbox.cli(['client', 'list', '--json']));
    expect(JSON.stringify(listed)).not.toContain('sha256:');
    expect(listed.clients).toEqual(expect.arrayContaining([
      expect.objectContaining({ client_id: clientId, token_endpoint_auth_method: 'client_secret_basic', source: 'operator' }),
    ]));
  });

  it('refuses redirect URIs that are not https or loopback http, or carry a fragment or wildcard (exit 2)', async () => {
    const cases: [string, string][] = [
      ['http://app.example.com/cb', 'must use https, or http on a loopback address'],
      ['https://app.example.com/cb#frag', 'must not contain a fragment'],
      ['https://*.example.com/cb', 'must not contain a wildcard'],
      ['/relative/cb', 'must be an absolute URI'],
    ];
    for (const [uri, reason] of cases) {
      const result = await sandbox.cli(['client', 'add', '--name', 'Bad', '--redirect-uri', uri]);
      expect(result.code, uri).toBe(2);
      expect(result.stderr.trim()).toMatch(new RegExp(`^error: --redirect-uri: redirect URI .*: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
    const none = await sandbox.cli(['client', 'add', '--name', 'No URIs']);
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe('error: --redirect-uri: declare at least one redirect URI');
  });
});

describe('client add --introspection', () => {
  const RESOURCE = 'https://notes.example.com/mcp';
  beforeAll(async () => {
    const registered = await sandbox.cli(['resource', 'add', '--uri', RESOURCE, '--name', 'Notes', '--scope', 'notes:read=read', '--no-check']);
    expect(registered.code, registered.stderr).toBe(0);
  });

  it('registers a confidential client bound to one resource, with no redirect URIs and only the token-exchange grant, secret shown once', async () => {
    const result = await sandbox.cli(['client', 'add', '--name', 'Notes MCP server', '--introspection', '--resource', RESOURCE, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const output = parseJsonOutput(result);
    expect(output).toEqual({
      client_id: expect.any(String), client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), client_name: 'Notes MCP server',
      redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', grant_types: [TOKEN_EXCHANGE_GRANT],
    });
    const { payload } = await sandbox.withDb((db) => storedPayload(db, String(output.client_id)));
    expect(payload).toEqual({
      client_id: output.client_id, client_name: 'Notes MCP server', redirect_uris: [], grant_types: [TOKEN_EXCHANGE_GRANT], response_types: [],
      token_endpoint_auth_method: 'client_secret_basic', client_id_issued_at: expect.any(Number), portcullis_source: 'operator',
      portcullis_introspects: RESOURCE, client_secret: digestClientSecret(String(output.client_secret)),
    });
    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'client.registered' }));
    expect(events.find((e) => e.client_id === output.client_id)?.details).toEqual({ actor: 'cli', introspection: true });

    const table = (await sandbox.cli(['client', 'list'])).stdout.split('\n');
    expect(table.find((line) => line.startsWith(String(output.client_id)))).toMatch(/Notes MCP server\s+introspection\s+operator\s+active\s+\S+Z\s+never\s+0$/);
  });

  it('prints the secret in the text output with the store-it-now warning', async () => {
    const result = await sandbox.cli(['client', 'add', '--name', 'Checker', '--introspection', '--resource', RESOURCE]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Registered introspection client "Checker"$/m);
    expect(result.stdout).toMatch(/^client_secret: [A-Za-z0-9_-]{43}$/m);
    expect(result.stdout).toContain('cannot be shown again');
  });

  it('refuses --redirect-uri with --introspection (exit 2) and stores nothing', async () => {
    const before = await sandbox.withDb((db) => listClients(db));
    const result = await sandbox.cli(['client', 'add', '--name', 'Both', '--introspection', '--redirect-uri', 'https://app.example.com/cb']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: client add: --introspection registers a client without redirect URIs; drop --redirect-uri');
    expect(await sandbox.withDb((db) => listClients(db))).toHaveLength(before.length);
  });

  it('needs --resource (exit 2), and a registered one (exit 1); stores nothing otherwise', async () => {
    const before = await sandbox.withDb((db) => listClients(db));
    const missing = await sandbox.cli(['client', 'add', '--name', 'Unbound', '--introspection']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--introspection needs --resource URI');
    const unknown = await sandbox.cli(['client', 'add', '--name', 'Unbound', '--introspection', '--resource', 'https://unknown.example.com/mcp']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('is not registered');
    expect(await sandbox.withDb((db) => listClients(db))).toHaveLength(before.length);
  });

  it('still needs a name', async () => {
    const result = await sandbox.cli(['client', 'add', '--introspection']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: client add: --name is required');
  });
});

describe('client disable / enable / delete through the CLI', () => {
  it('each prints one JSON object, changes the status client list shows, and records the change', async () => {
    const added = parseJsonOutput(await sandbox.cli(['client', 'add', '--name', 'Lifecycle', '--redirect-uri', 'http://127.0.0.1:9/cb', '--json']));
    const id = String(added.client_id);
    const status = async () => (await sandbox.withDb((db) => listClientOverview(db))).find((c) => c.clientId === id)?.status;

    const disabled = await sandbox.cli(['client', 'disable', `--id=${id}`, '--json']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(parseJsonOutput(disabled)).toEqual({ client_id: id, status: 'disabled', changed: true, grants_revoked: 0 });
    expect(await status()).toBe('disabled');
    const table = (await sandbox.cli(['client', 'list'])).stdout.split('\n');
    expect(table.find((line) => line.startsWith(id))).toMatch(/Lifecycle\s+public\s+operator\s+disabled\s/);
    const enabled = await sandbox.cli(['client', 'enable', `--id=${id}`]);
    expect(enabled.stdout).toContain(`Enabled client ${id}`);
    expect(await status()).toBe('active');
    const deleted = await sandbox.cli(['client', 'delete', `--id=${id}`]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`Deleted client ${id}`);
    expect(await status()).toBeUndefined();

    const types = (await sandbox.withDb((db) => listAuditEvents(db))).filter((e) => e.client_id === id).map((e) => e.event_type);
    expect(types).toEqual(['client.deleted', 'client.enabled', 'client.disabled', 'client.registered']);
  }, 180_000);

  it('an unknown client is an error (exit 1); a missing --id a usage error (exit 2)', async () => {
    const unknown = await sandbox.cli(['client', 'disable', '--id', 'no-such-client']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('error: no registered client with id no-such-client');
    const missing = await sandbox.cli(['client', 'delete']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('error: client delete: --id is required');
  }, 180_000);
});
