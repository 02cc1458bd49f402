// `resource add` checks the MCP server's live protected resource metadata (RFC 9728): local servers
// serve good and bad documents; mismatches warn and still register, unreachable servers get a note.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResourceByUri } from '../../src/resources/store.ts';
import { createSandbox, parseJsonOutput, type Sandbox } from './harness.ts';

const ISSUER = 'http://localhost:4000';
const servers: Server[] = [];
let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await sandbox.cleanup();
});

/** A local MCP-server stand-in; returns its origin and the paths it was asked for. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, origin: string) => void) {
  const hits: string[] = [];
  let origin = '';
  const server = createServer((req, res) => { hits.push(req.url ?? ''); handler(req, res, origin); });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  origin = `http://127.0.0.1:${address.port}`;
  return { origin, hits };
}

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const add = (uri: string, ...extra: string[]) => sandbox.cli(['resource', 'add', '--uri', uri, '--name', 'Notes',
  '--scope', 'notes:read=read', '--scope', 'notes:write=write', ...extra], { ISSUER, CIMD_ALLOW_LOOPBACK: 'true' });

type Check = { status: string; metadata_url: string | null; warnings: string[]; note: string | null };
const checkOf = (output: Record<string, unknown>) => output.check as Check;

describe('resource add checks the protected resource metadata', () => {
  it('finds a matching document at the path-inserted URL and says it matches', async () => {
    const { origin, hits } = await serve((req, res, o) => {
      if (req.url === '/.well-known/oauth-protected-resource/mcp') {
        json(res, { resource: `${o}/mcp`, authorization_servers: [ISSUER], scopes_supported: ['notes:read'] });
      } else json(res, {}, 404);
    });
    const result = await add(`${origin}/mcp`, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(checkOf(parseJsonOutput(result))).toEqual({
      status: 'checked', metadata_url: `${origin}/.well-known/oauth-protected-resource/mcp`, warnings: [], note: null,
    });
    expect(hits).toEqual(['/.well-known/oauth-protected-resource/mcp']);
  });

  it('falls back to the root well-known URL', async () => {
    const { origin, hits } = await serve((req, res, o) => {
      if (req.url === '/.well-known/oauth-protected-resource') json(res, { resource: `${o}/rooted`, authorization_servers: [ISSUER] });
      else json(res, { error: 'not found' }, 404);
    });
    const result = await add(`${origin}/rooted`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Checked the server's protected resource metadata at ${origin}/.well-known/oauth-protected-resource: it matches.`);
    expect(hits).toEqual(['/.well-known/oauth-protected-resource/rooted', '/.well-known/oauth-protected-resource']);
  });

  it('warns about a trailing slash, a missing issuer and undeclared scopes, and registers anyway (exit 0)', async () => {
    const { origin } = await serve((_req, res, o) => {
      json(res, { resource: `${o}/slash/`, authorization_servers: ['https://other-as.example.com'], scopes_supported: ['notes:read', 'notes:admin', 'notes:share'] });
    });
    const result = await add(`${origin}/slash`);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stdout.split('\n').filter((line) => line.startsWith('  warning: '));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain(`resource is "${origin}/slash/", which differs from the registered "${origin}/slash" by a trailing slash`);
    expect(warnings[1]).toContain(`authorization_servers lists "https://other-as.example.com" but does not name this server's issuer "${ISSUER}"`);
    expect(warnings[2]).toContain('scopes_supported notes:admin, notes:share that this registration lacks');
    expect(await sandbox.withDb((db) => findResourceByUri(db, `${origin}/slash`))).toBeDefined();
  });

  it('names a different path, a path differing in case, and an issuer spelled with a trailing slash', async () => {
    const { origin } = await serve((req, res, o) => {
      const resource = req.url?.endsWith('/case') ? `${o}/CASE` : `${o}/elsewhere`;
      json(res, { resource, authorization_servers: [`${ISSUER}/`] });
    });
    const other = checkOf(parseJsonOutput(await add(`${origin}/other`, '--json')));
    expect(other.warnings[0]).toMatch(/^resource is ".*\/elsewhere", not the registered ".*\/other": .*invalid_target/);
    expect(other.warnings[1]).toBe(`authorization_servers lists "${ISSUER}/", but this server's issuer is exactly "${ISSUER}": `
      + 'clients compare the issuer character for character (RFC 8414 §3.3)');
    const cased = checkOf(parseJsonOutput(await add(`${origin}/case`, '--json')));
    expect(cased.warnings[0]).toContain('whose path differs in letter case');
  });

  it('does not follow a redirect, and warns that no usable metadata is served', async () => {
    const target = await serve((_req, res, o) => json(res, { resource: `${o}/mcp`, authorization_servers: [ISSUER] }));
    const { origin } = await serve((req, res) => {
      if (req.url?.endsWith('/mcp')) res.writeHead(302, { location: `${target.origin}/.well-known/oauth-protected-resource/mcp` }).end();
      else json(res, {}, 404);
    });
    const check = checkOf(parseJsonOutput(await add(`${origin}/mcp`, '--json')));
    expect(check.status).toBe('checked');
    expect(check.warnings).toHaveLength(1);
    expect(check.warnings[0]).toContain('serves no usable protected resource metadata');
    expect(check.warnings[0]).toContain('redirects (302)');
    expect(check.warnings[0]).toContain('HTTP 404');
    expect(target.hits).toEqual([]);
  });

  it('refuses HTML, invalid JSON, JSON without resource, and documents over the size cap', async () => {
    const { origin } = await serve((req, res) => {
      if (req.url?.includes('/html')) res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hi</h1>');
      else if (req.url?.includes('/broken')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"resource": ');
      else if (req.url?.includes('/shapeless')) json(res, { authorization_servers: [ISSUER] });
      else if (req.url?.includes('/huge')) json(res, { resource: 'x', padding: 'y'.repeat(200_000) });
      else res.writeHead(404).end();
    });
    const cases: [string, string][] = [
      ['html', 'served as "text/html", not application/json'], ['broken', 'not valid JSON'],
      ['shapeless', 'is JSON but not protected resource metadata'], ['huge', 'larger than 64 KiB'],
    ];
    for (const [path, reason] of cases) {
      const check = checkOf(parseJsonOutput(await add(`${origin}/${path}`, '--json')));
      expect(check.warnings.join(' '), path).toContain(reason);
    }
  });

  it('registers with a note when the server cannot be reached', async () => {
    const { origin } = await serve(() => {});
    const closed = servers.pop();
    await new Promise((resolve) => closed?.close(resolve));
    const result = await add(`${origin}/down`, '--json');
    expect(result.code, result.stderr).toBe(0);
    const check = checkOf(parseJsonOutput(result));
    expect(check.status).toBe('not_checked');
    expect(check.warnings).toEqual([]);
    expect(check.note).toContain('was not checked');
    expect(check.note).toContain('connection refused');
    const text = await add(`${origin}/down2`);
    expect(text.stdout).toMatch(/^Note: the server's protected resource metadata was not checked: /m);
  });

  it('gives up on a server that never answers within the timeout', async () => {
    const { origin } = await serve(() => { /* never answers */ });
    const began = Date.now();
    const check = checkOf(parseJsonOutput(await add(`${origin}/slow`, '--json')));
    expect(check.status).toBe('not_checked');
    expect(check.note).toContain('no answer within 2.5 s');
    expect(Date.now() - began).toBeLessThan(20_000);
  }, 30_000);

  it('--no-check registers without a request to the server', async () => {
    const { origin, hits } = await serve((_req, res) => json(res, {}));
    const result = await add(`${origin}/unchecked`, '--no-check', '--json');
    expect(result.code).toBe(0);
    expect(checkOf(parseJsonOutput(result))).toEqual({ status: 'skipped', metadata_url: null, warnings: [], note: null });
    expect(hits).toEqual([]);
    expect((await add(`${origin}/unchecked2`, '--no-check')).stdout).toContain('Not checked');
  });

  it('does not fetch anything when the command line is invalid', async () => {
    const { origin, hits } = await serve((_req, res) => json(res, {}));
    const result = await sandbox.cli(['resource', 'add', '--uri', `${origin}/bad`, '--name', 'Bad', '--scope', 'a=nope'], { ISSUER });
    expect(result.code).toBe(2);
    expect(hits).toEqual([]);
  });
});
