// `client add --machine` through the real CLI: the secret printed once (or private_key_jwt with a checked
// JWKS), the binding in --json and `client list`, and every bad input a clear one-line error that writes nothing.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { Db } from '../../src/db/db.ts';
import { digestClientSecret } from '../../src/clients/secret.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { createMigratedTestDb } from '../helpers/test-db.ts';
import { addResource } from '../../src/resources/store.ts';
import { notesResource } from '../helpers/test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
let sandbox: Sandbox;

const ecPublic = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
const jwksFile = (name: string, content: unknown) => {
  const path = join(sandbox.dataDir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const machineAdd = (...extra: string[]) => sandbox.cli(['client', 'add', '--machine', '--name', 'Agent', '--resource', NOTES, '--scope', 'notes:read', ...extra]);

async function counts(db: Db) {
  const { rows } = await db.query<{ clients: number; bindings: number; events: number }>(
    `SELECT (SELECT count(*)::int FROM oidc_models WHERE model = 'Client') AS clients,
            (SELECT count(*)::int FROM machine_clients) AS bindings,
            (SELECT count(*)::int FROM audit_events WHERE event_type = 'client.registered') AS events`);
  return rows[0];
}

beforeAll(async () => {
  sandbox = await createSandbox();
  const added = await sandbox.cli(['resource', 'add', '--uri', NOTES, '--name', 'Notes', '--scope', 'notes:read=read',
    '--scope', 'notes:write=write', '--scope', 'notes:delete=irreversible', '--no-check']);
  expect(added.code, added.stderr).toBe(0);
});
afterAll(async () => { await sandbox?.cleanup(); });

describe('client add --machine', () => {
  it('prints client_id and the secret once (--json), stores its digest and the binding, and lists the binding', async () => {
    const result = await machineAdd('--scope', 'notes:write', '--json');
    expect(result.code, result.stderr).toBe(0);
    const json = parseJsonOutput(result);
    expect(json).toEqual({
      client_id: expect.stringMatching(/^[0-9a-f-]{36}$/), client_secret: expect.any(String), client_name: 'Agent', redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], resource: NOTES,
      scope: 'notes:read notes:write', allow_irreversible: false,
    });
    const stored = await sandbox.withDb(async (db) => (await db.query<{ payload: Record<string, unknown> }>(
      `SELECT payload FROM oidc_models WHERE model = 'Client' AND id = $1`, [json.client_id])).rows[0]?.payload);
    expect(stored).toMatchObject({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
      client_secret: digestClientSecret(json.client_secret as string) });

    const list = await sandbox.cli(['client', 'list', '--json']);
    const listed = (parseJsonOutput(list).clients as Record<string, unknown>[]).find((c) => c.client_id === json.client_id);
    expect(listed).toMatchObject({ grant_types: ['client_credentials'], resource: NOTES, scope: 'notes:read notes:write', allow_irreversible: false });
    expect(listed).not.toHaveProperty('client_secret');
    const text = await sandbox.cli(['client', 'list']);
    expect(text.stdout).toMatch(new RegExp(`${json.client_id}\\s+Agent\\s+machine\\s+operator.*${NOTES} scope=notes:read,notes:write`));
  });

  it('with --jwks registers private_key_jwt and prints no secret; irreversible scopes only with --allow-irreversible', async () => {
    const path = jwksFile('good.json', { keys: [{ ...ecPublic(), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    const result = await machineAdd('--scope', 'notes:delete', '--allow-irreversible', '--jwks', path);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('auth method:   private_key_jwt');
    expect(result.stdout).toContain('scope:         notes:read notes:delete (irreversible scopes allowed)');
    expect(result.stdout).not.toContain('client_secret');
  });

  it('through the process: a refusal is one clear line (exit 1 or 2), no stack, and writes nothing', async () => {
    const before = await sandbox.withDb(counts);
    const ecPrivate = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const cases: [string[], number, string][] = [
      [['--jwks', jwksFile('private.json', { keys: [ecPrivate] })], 2,
        'error: --jwks: a JWKS must hold public keys only: this key has private member d; publish its public half'],
      [['--scope', 'notes:delete'], 1, 'error: scope notes:delete is irreversible: a machine client acts with no person to confirm it; '
        + 'allow it for this client explicitly (--allow-irreversible) or leave it out'],
      [['--jwks', jwksFile('notjson.json', '{"keys": [')], 2, `error: --jwks ${join(sandbox.dataDir, 'notjson.json')} is not JSON`],
    ];
    for (const [extra, code, message] of cases) {
      const result = await machineAdd(...extra);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr.trim()).toBe(message);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    }
    expect(await sandbox.withDb(counts)).toEqual(before);
  });
});

describe('client add --machine refusals (the CLI\'s own code, in process)', () => {
  let testDb: Awaited<ReturnType<typeof createMigratedTestDb>>;
  beforeAll(async () => {
    testDb = await createMigratedTestDb();
    await addResource(testDb.db, notesResource(NOTES), 300);
  });
  afterAll(async () => { await testDb?.cleanup(); });

  /** What the operator is told: the CLI prints a ZodError's issues as `--option: message`. */
  async function refusal(extra: string[]): Promise<string> {
    try {
      await runCommand(testDb.db, ['client', 'add', '--machine', '--name', 'Agent', '--resource', NOTES, '--scope', 'notes:read', ...extra]);
    } catch (error) {
      if (error instanceof ZodError) return error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`).join('; ');
      return (error as Error).message;
    }
    throw new Error(`${extra.join(' ')} was accepted`);
  }

  it('refuses bad keys, scopes, sizes and combinations, and writes nothing', async () => {
    const before = await counts(testDb.db);
    const rsaSmall = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const cases: [string[], RegExp][] = [
      [['--scope', 'x'.repeat(300)], /scopes: a scope is 1–128 printable characters/],
      [['--name', 'n'.repeat(201)], /name: .*200/],
      [['--resource', `https://mcp.example.com/${'a'.repeat(5000)}`], /resource: /],
      [Array.from({ length: 101 }, (_, i) => ['--scope', `s${i}`]).flat(), /scopes: .*100/],
      [['--scope', 'made:up'], /declares no scope made:up/],
      [['--jwks', jwksFile('oct.json', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })], /this key has private member k/],
      [['--jwks', jwksFile('sym.json', { keys: [{ kty: 'oct', kid: 'x' }] })], /kty must be EC, OKP or RSA/],
      [['--jwks', jwksFile('hs.json', { keys: [{ ...ecPublic(), alg: 'HS256' }] })], /jwks: alg must be one of ES256/],
      [['--jwks', jwksFile('rsa.json', { keys: [rsaSmall] })], /1024-bit RSA key; 2048 bits at least/],
      [['--jwks', jwksFile('broken.json', { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] })], /is not a usable public key/],
      [['--jwks', jwksFile('empty.json', { keys: [] })], /the JWKS holds no key/],
      [['--jwks', jwksFile('twice.json', { keys: [ecPublic(), ecPublic()] })], /each key needs a distinct kid/],
      [['--jwks', jwksFile('nul.json', { keys: [{ ...ecPublic(), kid: 'a\u0000' }] })], /jwks: the JWKS contains a NUL character/],
      [['--jwks', jwksFile('huge.json', `{"keys":[${'{"kty":"EC"},'.repeat(30000)}{}]}`)], /is larger than 262144 bytes/],
      [['--jwks', join(sandbox.dataDir, 'missing.json')], /cannot read --jwks/],
      [['--jwks', jwksFile('x.json', { keys: [ecPublic()] }), '--jwks-uri', 'https://agent.example/jwks'], /give --jwks FILE or --jwks-uri URL, not both/],
      [['--jwks-uri', 'http://127.0.0.1/jwks'], /jwks_uri must be an https URL/],
      [['--redirect-uri', 'https://app.example/cb'], /--machine registers a client that acts as itself/],
    ];
    for (const [extra, message] of cases) expect(await refusal(extra), extra.join(' ').slice(0, 80)).toMatch(message);
    expect(await counts(testDb.db)).toEqual(before);
  });

  it('refuses a NUL byte in any option (an argv cannot carry one) and writes nothing', async () => {
    {
      const before = await counts(testDb.db);
      for (const argv of [['--name', 'A\u0000B', '--scope', 'notes:read'], ['--name', 'A', '--scope', 'notes:\u0000read'],
        ['--name', 'A', '--scope', 'notes:read', '--jwks-uri', 'https://agent.example/\u0000']]) {
        await expect(runCommand(testDb.db, ['client', 'add', '--machine', '--resource', NOTES, ...argv]))
          .rejects.toThrow(/contains a NUL character, which cannot be stored/);
      }
      expect(await counts(testDb.db)).toEqual(before);
    }
  });
});
