// `resource add` / `resource list` through the real CLI: scopes with risk classes and descriptions,
// the --json shape, and the exit codes for an invalid risk, an invalid URI and a duplicate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { findResourceByUri } from '../../src/resources/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => { await sandbox.cleanup(); });

describe('resource add', () => {
  it('registers scopes with their risk and description, canonicalises the URI, and prints --json', async () => {
    const result = await sandbox.cli([
      'resource', 'add', '--uri', 'https://MCP.example.com/files/', '--name', 'Files',
      '--scope', 'files:read=read', '--scope', 'files:delete=irreversible',
      '--scope-description', 'files:read=Read your files (a=b is fine)', '--ttl', '600', '--no-check', '--json',
    ]);
    expect(result.code).toBe(0);
    // The admin API's shape (POST /admin/api/resources): the resource as stored, and the check beside it.
    expect(parseJsonOutput(result)).toEqual({
      resource: {
        uri: 'https://mcp.example.com/files',
        name: 'Files',
        status: 'active',
        access_token_ttl_seconds: 600,
        access_token_format: 'jwt',
        dpop: 'allowed',
        scopes: [
          { scope: 'files:read', risk: 'read', description: 'Read your files (a=b is fine)' },
          { scope: 'files:delete', risk: 'irreversible', description: '' },
        ],
        client_access: 'any',
        allowed_clients: null,
      },
      check: { status: 'skipped', metadata_url: null, warnings: [], note: null },
    });

    const stored = await sandbox.withDb((db) => findResourceByUri(db, 'https://mcp.example.com/files'));
    expect(stored?.scopes.map((s) => `${s.scope}=${s.risk}`)).toEqual(['files:read=read', 'files:delete=irreversible']);
    const events = await sandbox.withDb((db) => listAuditEvents(db, { type: 'resource.registered' }));
    expect(events[0]).toMatchObject({ resource: 'https://mcp.example.com/files', scopes: 'files:read files:delete', details: { actor: 'cli' } });

    const listed = parseJsonOutput(await sandbox.cli(['resource', 'list', '--json']));
    expect(listed.resources).toEqual([expect.objectContaining({ uri: 'https://mcp.example.com/files', access_token_ttl_seconds: 600 })]);
  });

  it('uses ACCESS_TOKEN_TTL_SECONDS when --ttl is absent and prints a readable summary without --json', async () => {
    const result = await sandbox.cli(['resource', 'add', '--uri', 'https://notes.example.com', '--name', 'Notes',
      '--scope', 'notes:write=write', '--no-check'], { ACCESS_TOKEN_TTL_SECONDS: '120' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Registered https://notes.example.com (Notes), access tokens live 120 s');
    expect(result.stdout).toContain('notes:write (write)');
  });

  it('rejects an invalid risk class with exit 2 and stores nothing', async () => {
    const result = await sandbox.cli(['resource', 'add', '--uri', 'https://risky.example.com', '--name', 'Risky',
      '--scope', 'x:do=dangerous']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe('error: resource add: invalid risk "dangerous" for scope x:do: use read, write, irreversible');
    expect(await sandbox.withDb((db) => findResourceByUri(db, 'https://risky.example.com'))).toBeUndefined();
  });

  it('rejects an invalid URI, a reserved scope and a TTL out of range with exit 2', async () => {
    const cases: [string[], string][] = [
      [['--uri', 'ftp://files.example.com', '--scope', 'a=read'], 'error: --uri: resource must be an http or https URI'],
      [['--uri', 'https://files.example.com#x', '--scope', 'a=read'], 'error: --uri: resource must not contain a fragment'],
      // RFC 8707 §2: SHOULD NOT have a query; refused, as the resource-server kit refuses to serve one.
      [['--uri', 'https://files.example.com/mcp?tenant=a', '--scope', 'a=read'], 'error: --uri: resource must not contain a query'],
      [['--uri', 'https://files.example.com', '--scope', 'openid=read'], 'error: --scope: openid and offline_access are reserved'],
      [['--uri', 'https://files.example.com', '--scope', 'a=read', '--ttl', '5'], 'error: --ttl: Too small: expected number to be >=120'],
      [['--uri', 'https://files.example.com', '--scope', 'a'], 'error: resource add: --scope expects SCOPE=RISK, got "a"'],
    ];
    for (const [options, message] of cases) {
      const result = await sandbox.cli(['resource', 'add', '--name', 'Bad', ...options]);
      expect(result.code, message).toBe(2);
      expect(result.stderr.trim()).toBe(message);
    }
  });

  it('refuses a resource registered twice (exit 1, one line, no stack trace)', async () => {
    const first = await sandbox.cli(['resource', 'add', '--uri', 'https://twice.example.com', '--name', 'A', '--scope', 'a=read', '--no-check']);
    expect(first.code).toBe(0);
    const second = await sandbox.cli(['resource', 'add', '--uri', 'https://TWICE.example.com/', '--name', 'B', '--scope', 'b=read', '--no-check']);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe('error: https://twice.example.com is already registered');
    expect(second.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('resource add --token-format', () => {
  it('stores opaque, shows it in the summary, the --json output and resource list', async () => {
    const result = await sandbox.cli(['resource', 'add', '--uri', 'https://introspected.example.com/mcp', '--name', 'Introspected',
      '--scope', 'i:read=read', '--token-format', 'opaque', '--no-check']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('(opaque: the server checks them by introspection)');
    const stored = await sandbox.withDb((db) => findResourceByUri(db, 'https://introspected.example.com/mcp'));
    expect(stored?.accessTokenFormat).toBe('opaque');
    const rows = await sandbox.withDb((db) => db.query<{ access_token_format: string }>(
      'SELECT access_token_format FROM resources WHERE uri = $1', ['https://introspected.example.com/mcp']));
    expect(rows.rows).toEqual([{ access_token_format: 'opaque' }]);

    const listed = parseJsonOutput(await sandbox.cli(['resource', 'list', '--json']));
    expect(listed.resources).toEqual(expect.arrayContaining([
      expect.objectContaining({ uri: 'https://introspected.example.com/mcp', access_token_format: 'opaque' }),
      expect.objectContaining({ uri: 'https://mcp.example.com/files', access_token_format: 'jwt' }),
    ]));
    const table = (await sandbox.cli(['resource', 'list'])).stdout.split('\n');
    expect(table[0]).toMatch(/^URI\s+NAME\s+TTL\s+FORMAT\s+DPOP\s+SCOPES$/);
    expect(table.find((line) => line.startsWith('https://introspected.example.com/mcp'))).toMatch(/\sopaque\s+allowed\s+i:read=read$/);
  });

  it('refuses an unknown format with exit 2 and stores nothing', async () => {
    const result = await sandbox.cli(['resource', 'add', '--uri', 'https://paseto.example.com', '--name', 'P',
      '--scope', 'a=read', '--token-format', 'paseto', '--no-check']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: resource add: --token-format must be jwt or opaque, got "paseto"');
    expect(await sandbox.withDb((db) => findResourceByUri(db, 'https://paseto.example.com'))).toBeUndefined();
  });

  it('the database refuses any other format, whatever writes it', async () => {
    await expect(sandbox.withDb((db) => db.query(
      `INSERT INTO resources (uri, name, access_token_ttl_seconds, access_token_format) VALUES ('https://x.example.com', 'X', 300, 'paseto')`,
    ))).rejects.toThrow(/check constraint/);
  });
});
