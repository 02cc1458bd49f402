// `idp test` against real servers on loopback: a second oidc-provider instance (passes), a dead port
// (unreachable), a document naming another issuer (mismatch), a non-JSON answer, a document without jwks_uri.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, parseJsonOutput, type Sandbox } from '../cli/harness.ts';
import { freePort } from '../helpers/free-port.ts';

let sandbox: Sandbox;
const servers: Server[] = [];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let realIssuer: string;
let wrongIssuer: string;
let notJson: string;
let noJwks: string;
let noKeys: string;

beforeAll(async () => {
  sandbox = await createSandbox();
  // A minimal real OpenID provider: its defaults publish discovery, code flow with PKCE S256 and a JWKS.
  let provider: Provider | undefined;
  realIssuer = await listen((req, res) => provider!.callback()(req, res));
  provider = new Provider(realIssuer, { clients: [{ client_id: 'portcullis', client_secret: 'x'.repeat(32), redirect_uris: ['http://localhost:4000/federation/callback'] }] });
  wrongIssuer = await listen((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ issuer: 'https://someone-else.example', jwks_uri: 'https://someone-else.example/jwks', response_types_supported: ['code'] }));
  });
  notJson = await listen((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<html>hello</html>'); });
  noJwks = await listen((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ issuer: `http://${req.headers.host}`, authorization_endpoint: `http://${req.headers.host}/auth`, response_types_supported: ['code'] }));
  });
  // Everything right except an empty key set, and no authorization code grant.
  noKeys = await listen((req, res) => {
    const origin = `http://${req.headers.host}`;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/jwks' ? { keys: [] } : {
      issuer: origin, jwks_uri: `${origin}/jwks`, response_types_supported: ['code'], grant_types_supported: ['client_credentials'],
      code_challenge_methods_supported: ['S256'],
    }));
  });
  const dead = `http://127.0.0.1:${await freePort()}`;
  for (const [name, issuer] of [['real', realIssuer], ['wrong', wrongIssuer], ['html', notJson], ['nojwks', noJwks], ['nokeys', noKeys], ['dead', dead]]) {
    const added = await sandbox.cli(['idp', 'add', '--name', name!, '--issuer', issuer!, '--client-id', 'portcullis', '--client-secret', 's']);
    expect(added.code).toBe(0);
  }
  expect((await sandbox.cli(['idp', 'add', '--name', 'gh', '--preset', 'github', '--client-id', 'c', '--client-secret', 's'])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  for (const server of servers) server.close();
  await sandbox.cleanup();
});

const test = async (name: string) => {
  const result = await sandbox.cli(['idp', 'test', '--name', name, '--json']);
  return { code: result.code, ...(parseJsonOutput(result) as { ok: boolean; problems: string[]; checked: string[] }) };
};

describe('idp test', () => {
  it('passes a real OpenID provider: exact issuer, code flow with S256, a non-empty JWKS', async () => {
    const result = await test('real');
    expect(result).toMatchObject({ code: 0, ok: true, problems: [] });
    expect(result.checked.join('\n')).toMatch(/issuer .* matches[\s\S]*S256[\s\S]*jwks_uri .*key\(s\)/);
  });

  it.each([
    ['dead', /^unreachable: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration could not be fetched/],
    ['wrong', /^issuer mismatch: .* names its issuer "https:\/\/someone-else\.example", not http:\/\/127\.0\.0\.1:\d+/],
    ['html', /^not JSON: /],
  ])('says plainly what is wrong with %s, and exits 1', async (name, problem) => {
    const result = await test(name);
    expect(result.code).toBe(1);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatch(problem);
  });

  it('names a missing jwks_uri and missing PKCE S256 support', async () => {
    const result = await test('nojwks');
    expect(result.code).toBe(1);
    expect(result.problems).toEqual([
      'no S256 support: code_challenge_methods_supported does not list S256 (PKCE, RFC 7636)',
      'no jwks_uri: the discovery document names no key set, so ID tokens cannot be verified',
    ]);
  });

  it('names an empty key set and a provider without the authorization code grant', async () => {
    const result = await test('nokeys');
    expect(result.code).toBe(1);
    expect(result.problems).toEqual([
      'no authorization_code support: grant_types_supported lacks "authorization_code"',
      expect.stringMatching(/^no keys: http:\/\/127\.0\.0\.1:\d+\/jwks publishes an empty key set$/),
    ]);
  });

  it('checks nothing remote for GitHub and names its API base', async () => {
    expect(await test('gh')).toMatchObject({ code: 0, ok: true, checked: [expect.stringContaining('https://api.github.com')] });
  });
});
