// `client add` / `client list` through the real CLI: public and confidential clients, the secret shown
// exactly once and stored only as its sha256: digest, and redirect URI rules as usage errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { findClientById } from '../../src/clients/store.ts';
import type { Db } from '../../src/db/db.ts';
import { digestClientSecret } from '../../src/oidc/client-secret.ts';
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
