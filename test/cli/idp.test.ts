// `idp add|list|show|update|remove` through the real CLI: the --json shapes, the client secret stored
// only encrypted and never printed, one provider per email domain, bad input refused, and the audit rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';

const SECRET = 'super-secret-value-0123456789';
let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => { await sandbox.cleanup(); });

const add = (...args: string[]) => sandbox.cli(['idp', 'add', '--client-id', 'cid', '--client-secret', SECRET, ...args]);
const rowsOf = (table: string) => sandbox.withDb(async (db) => (await db.query(`SELECT * FROM ${table}`)).rows);

describe('idp add', () => {
  it('adds an Okta provider with normalised domains and prints its --json form with the callback URL, never the secret', async () => {
    const result = await add('--name', 'acme', '--preset', 'okta', '--issuer', 'https://acme.okta.com/oauth2/default',
      '--domain', 'ACME.example', '--domain', 'acme.example.', '--domain', 'Bücher.example', '--groups-claim', 'groups', '--sso-only', '--json');
    expect(result.code).toBe(0);
    const { identity_provider: provider } = parseJsonOutput(result) as { identity_provider: Record<string, unknown> };
    expect(provider).toEqual({
      id: expect.any(String), name: 'acme', display_name: 'acme', kind: 'oidc', preset: 'okta',
      issuer: 'https://acme.okta.com/oauth2/default', tenant: null, client_id: 'cid', scopes: ['openid', 'email', 'profile'],
      email_claim: 'email', groups_claim: 'groups', create_accounts: true, sso_only: true, id_jag: false,
      domains: ['acme.example', 'xn--bcher-kva.example'], status: 'active', disabled_at: null,
      created_at: expect.any(String), updated_at: expect.any(String), callback_url: 'http://localhost:4000/federation/callback',
    });
    expect(result.stdout).not.toContain(SECRET);
  });

  it('stores the secret only as a JWE: no column of the row holds it', async () => {
    const [row] = await rowsOf("identity_providers WHERE name = 'acme'");
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(String(row?.client_secret_jwe).split('.')).toHaveLength(5);
  });

  it('fills in Google, Entra (with its tenant) and GitHub from their presets', async () => {
    const google = parseJsonOutput(await add('--name', 'google', '--preset', 'google', '--json')) as { identity_provider: Record<string, unknown> };
    expect(google.identity_provider).toMatchObject({ issuer: 'https://accounts.google.com', kind: 'oidc' });
    const entra = parseJsonOutput(await add('--name', 'entra', '--preset', 'entra', '--tenant', 'contoso.onmicrosoft.com', '--no-create-accounts', '--id-jag', '--json')) as { identity_provider: Record<string, unknown> };
    expect(entra.identity_provider).toMatchObject({
      issuer: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0', tenant: 'contoso.onmicrosoft.com', create_accounts: false, id_jag: true,
    });
    const github = parseJsonOutput(await add('--name', 'github', '--preset', 'github', '--json')) as { identity_provider: Record<string, unknown> };
    expect(github.identity_provider).toMatchObject({ kind: 'github', issuer: null, scopes: ['read:user', 'user:email'] });
  });

  it('refuses a domain another provider claims, naming it, and writes nothing', async () => {
    const result = await add('--name', 'other', '--issuer', 'https://other.example', '--domain', 'Acme.Example');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('acme.example already belongs to identity provider acme');
    expect(await rowsOf("identity_providers WHERE name = 'other'")).toEqual([]);
  });

  it.each([
    [['--name', 'x', '--issuer', 'http://idp.example'], 2, '--issuer: the issuer must be an https URL (http only on loopback)'],
    [['--name', 'x', '--issuer', 'https://idp.example/?a=b'], 2, '--issuer: the issuer has no query, fragment or credentials'],
    [['--name', 'x', '--issuer', `https://idp.example/${'a'.repeat(3000)}`], 2, '--issuer: the issuer is longer than 2000 characters'],
    [['--name', 'x', '--preset', 'auth0'], 2, '--preset: the preset is one of google, entra, okta, github'],
    [['--name', 'x', '--preset', 'entra'], 1, '--tenant: the entra preset needs --tenant'],
    [['--name', 'x', '--preset', 'entra', '--tenant', 'common'], 1, '--tenant: give the directory (tenant) ID'],
    [['--name', 'x', '--preset', 'okta', '--issuer', 'https://evil.example'], 1, '--issuer: the okta preset needs --issuer https://{org}.okta.com'],
    [['--name', 'x', '--preset', 'google', '--issuer', 'https://accounts.google.com'], 1, '--issuer is fixed by the google preset'],
    [['--name', 'x'], 1, 'give --issuer URL or --preset'],
    [['--name', 'Bad Name', '--preset', 'google'], 2, '--name: a name is 1-63 lowercase letters'],
    [['--name', 'x', '--preset', 'google', '--display-name', 'a\u0007b'], 2, '--display-name: the display name contains a control character'],
    [['--name', 'x', '--preset', 'google', '--domain', '127.0.0.1'], 2, '--domain: 127.0.0.1 is not an email domain'],
    [['--name', 'acme', '--preset', 'google'], 1, 'an identity provider named acme exists'],
  ])('refuses %j with a clear message (exit %i) and writes nothing', async (args, code, message) => {
    const before = await rowsOf('identity_providers');
    const result = await add(...args);
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code, stderr: expect.stringContaining(message) });
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(await rowsOf('identity_providers')).toHaveLength(before.length);
  });


  it('accepts plain http only on loopback, for a provider on this machine', async () => {
    const result = await add('--name', 'local', '--issuer', 'http://127.0.0.1:9/', '--json');
    expect(result.code).toBe(0);
    expect(parseJsonOutput(result)).toMatchObject({ identity_provider: { issuer: 'http://127.0.0.1:9/' } });
  });
});

describe('idp list, show, update, remove', () => {
  it('lists and shows providers without the secret', async () => {
    const list = await sandbox.cli(['idp', 'list', '--json']);
    const { identity_providers: providers } = parseJsonOutput(list) as { identity_providers: { name: string }[] };
    expect(providers.map((p) => p.name)).toEqual(['acme', 'entra', 'github', 'google', 'local']);
    const show = await sandbox.cli(['idp', 'show', '--name', 'acme']);
    expect(show.stdout).toContain('http://localhost:4000/federation/callback');
    for (const output of [list.stdout, show.stdout]) expect(output).not.toContain(SECRET);
    expect(JSON.stringify(parseJsonOutput(list))).not.toMatch(/secret_jwe|client_secret/);
  });

  it('updates settings, replaces domains, disables and enables', async () => {
    const updated = await sandbox.cli(['idp', 'update', '--name', 'acme', '--display-name', 'Acme Okta', '--domain', 'acme.test', '--disable', '--client-secret', 'rotated-secret', '--json']);
    expect(parseJsonOutput(updated)).toMatchObject({ identity_provider: { display_name: 'Acme Okta', domains: ['acme.test'], status: 'disabled' } });
    expect(JSON.stringify(await rowsOf('identity_providers'))).not.toContain('rotated-secret');
    // The released domain may now be claimed by another provider.
    expect((await sandbox.cli(['idp', 'update', '--name', 'google', '--domain', 'acme.example'])).code).toBe(0);
    const enabled = await sandbox.cli(['idp', 'update', '--name', 'acme', '--enable', '--json']);
    expect(parseJsonOutput(enabled)).toMatchObject({ identity_provider: { status: 'active', disabled_at: null } });
    const clash = await sandbox.cli(['idp', 'update', '--name', 'acme', '--domain', 'acme.example']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain('acme.example already belongs to identity provider google');
    const both = await sandbox.cli(['idp', 'update', '--name', 'acme', '--enable', '--disable']);
    expect(both.code).toBe(2);
    // --end-sessions / --end-grants say what disabling does to the provider's people; alone they mean nothing.
    const alone = await sandbox.cli(['idp', 'update', '--name', 'acme', '--end-sessions']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('go with --disable');
    const ended = await sandbox.cli(['idp', 'update', '--name', 'acme', '--disable', '--end-grants', '--json']);
    expect(ended.code, ended.stderr).toBe(0);
    expect((parseJsonOutput(ended) as { identity_provider: { status: string } }).identity_provider.status).toBe('disabled');
    expect((await sandbox.cli(['idp', 'update', '--name', 'acme', '--enable'])).code).toBe(0);
  });

  it('removes a provider with its domains; an unknown name is a clear error', async () => {
    const removed = await sandbox.cli(['idp', 'remove', '--name', 'google', '--json']);
    expect(parseJsonOutput(removed)).toMatchObject({ removed: 'google' });
    expect(await rowsOf("identity_provider_domains WHERE domain = 'acme.example'")).toEqual([]);
    const again = await sandbox.cli(['idp', 'remove', '--name', 'google']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no identity provider named google');
  });

  it('audits add, update and remove with the CLI as the actor, never the secret', async () => {
    const events = await sandbox.withDb(async (db) => (await listAuditEvents(db, { limit: 100 }))
      .filter((e) => e.event_type.startsWith('identity_provider.')));
    const types = events.map((e) => e.event_type);
    expect(types.filter((t) => t === 'identity_provider.added')).toHaveLength(5);
    expect(types).toContain('identity_provider.updated');
    expect(types).toContain('identity_provider.removed');
    expect(events.every((e) => e.actor_type === 'operator' && e.actor_id === 'cli')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(events)).not.toContain('rotated-secret');
  });
});
