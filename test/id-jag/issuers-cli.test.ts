// `idjag-issuer add|list|remove` through the real CLI: the trust list changes and is audited with the
// operator as actor; bad input (http issuer, private keys, both key sources) is a usage error, nothing stored.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from '../cli/harness.ts';

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => { await sandbox.cleanup(); });

describe('idjag-issuer', () => {
  it('adds an issuer by JWKS URL and by JWKS file, lists and removes them, each change audited', async () => {
    const byUri = await sandbox.cli(['idjag-issuer', 'add', '--issuer', 'https://idp.example', '--jwks-uri', 'https://idp.example/jwks', '--json']);
    expect(byUri.code).toBe(0);
    expect(parseJsonOutput(byUri)).toMatchObject({ issuer: 'https://idp.example', jwks_uri: 'https://idp.example/jwks', created: true });

    const { publicKey } = await generateKeyPair('ES256');
    const file = join(sandbox.dataDir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [await exportJWK(publicKey)] }));
    const byFile = await sandbox.cli(['idjag-issuer', 'add', '--issuer', 'https://other.example', '--jwks', file, '--json']);
    expect(byFile.code).toBe(0);
    expect(parseJsonOutput(byFile)).toMatchObject({ issuer: 'https://other.example', jwks_uri: null, jwks_keys: 1 });

    const listed = parseJsonOutput(await sandbox.cli(['idjag-issuer', 'list', '--json']));
    expect((listed.issuers as { issuer: string }[]).map((i) => i.issuer)).toEqual(['https://idp.example', 'https://other.example']);

    const account = parseJsonOutput(await sandbox.cli(['user', 'add', '--email', 'ada@example.com', '--password', 'correct horse', '--json']));
    const linked = await sandbox.cli(['idjag-issuer', 'link', '--issuer', 'https://other.example', '--subject', 'U1', `--account=${account.id as string}`]);
    expect(linked.code, linked.stderr).toBe(0);
    const noAccount = await sandbox.cli(['idjag-issuer', 'link', '--issuer', 'https://other.example', '--subject', 'U2', '--account=nobody']);
    expect([noAccount.code, noAccount.stderr.trim()]).toEqual([1, 'error: no account with id nobody']);
    const client = parseJsonOutput(await sandbox.cli(['client', 'add', '--name', 'Agent', '--redirect-uri', 'https://agent.example/cb', '--confidential', '--json']));
    const allowed = await sandbox.cli(['idjag-client', 'allow', `--id=${client.client_id as string}`]);
    expect(allowed.code, allowed.stderr).toBe(0);

    expect((await sandbox.cli(['idjag-issuer', 'remove', '--issuer', 'https://idp.example'])).code).toBe(0);
    const missing = await sandbox.cli(['idjag-issuer', 'remove', '--issuer', 'https://idp.example']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: no trusted ID-JAG issuer https://idp.example');

    const events = await sandbox.withDb(async (db) => [
      ...await listAuditEvents(db, { type: 'id_jag_issuer.added' }),
      ...await listAuditEvents(db, { type: 'id_jag_issuer.removed' }),
    ]);
    expect(events.map((e) => [e.event_type, e.details.issuer, e.actor_id])).toEqual(expect.arrayContaining([
      ['id_jag_issuer.added', 'https://idp.example', 'cli'],
      ['id_jag_issuer.added', 'https://other.example', 'cli'],
      ['id_jag_issuer.removed', 'https://idp.example', 'cli'],
    ]));
    expect(events).toHaveLength(3);
  });

  it('refuses an http issuer, a private key, both or neither key source, with exit 2 and nothing stored', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = join(sandbox.dataDir, 'private.json');
    writeFileSync(file, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    const attempts = [
      ['--issuer', 'http://idp.attacker.example', '--jwks-uri', 'https://idp.attacker.example/jwks'],
      ['--issuer', 'https://bad.example', '--jwks', file],
      ['--issuer', 'https://bad.example', '--jwks-uri', 'https://bad.example/jwks', '--jwks', file],
      ['--issuer', 'https://bad.example'],
    ];
    for (const args of attempts) {
      const result = await sandbox.cli(['idjag-issuer', 'add', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    }
    const listed = parseJsonOutput(await sandbox.cli(['idjag-issuer', 'list', '--json']));
    expect((listed.issuers as { issuer: string }[]).map((i) => i.issuer)).toEqual(['https://other.example']);
  });

  it('idjag-resource allows, lists and denies irreversible scopes through ID-JAGs per resource; an unknown resource writes nothing', async () => {
    expect((await sandbox.cli(['resource', 'add', '--uri', 'https://billing.example/mcp', '--name', 'Billing',
      '--scope', 'invoices:read=read', '--scope', 'invoices:void=irreversible', '--no-check'])).code).toBe(0);
    const allowed = await sandbox.cli(['idjag-resource', 'allow-irreversible', '--resource', 'https://billing.example/mcp', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(parseJsonOutput(allowed)).toMatchObject({ resource: 'https://billing.example/mcp', scopes: ['invoices:void'], changed: true });
    const listed = parseJsonOutput(await sandbox.cli(['idjag-resource', 'list', '--json']));
    expect((listed.resources as { resource: string }[]).map((r) => r.resource)).toEqual(['https://billing.example/mcp']);
    const unknown = await sandbox.cli(['idjag-resource', 'allow-irreversible', '--resource', 'https://nowhere.example/mcp']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).not.toMatch(STACK_FRAME);
    const denied = await sandbox.cli(['idjag-resource', 'deny-irreversible', '--resource', 'https://billing.example/mcp']);
    expect([denied.code, denied.stdout.trim()]).toEqual([0, 'ID-JAGs no longer grant the irreversible scopes of https://billing.example/mcp.']);
    const rows = await sandbox.withDb((db) => db.query('SELECT resource_uri FROM id_jag_irreversible_resources'));
    expect(rows.rows).toEqual([]);
  });
});
