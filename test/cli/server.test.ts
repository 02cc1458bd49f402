// The CLI while a server runs: with embedded PGlite the server owns DATA_DIR, so the CLI goes through
// its socket; what it registers is live at once, and clients it adds are ones oidc-provider accepts.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, parseJsonOutput, REPO_ROOT, startServer, type RunningServer, type Sandbox } from './harness.ts';

let sandbox: Sandbox;
let server: RunningServer;
beforeAll(async () => {
  sandbox = await createSandbox();
  server = await startServer(sandbox);
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.cleanup();
});

async function discovery(): Promise<{ scopes_supported: string[]; introspection_endpoint: string }> {
  const response = await fetch(`${server.baseUrl}/.well-known/oauth-authorization-server`);
  expect(response.status).toBe(200);
  return (await response.json()) as { scopes_supported: string[]; introspection_endpoint: string };
}

describe('the CLI beside a running server', () => {
  it('registers a resource that discovery lists at once, without a restart', async () => {
    // Embedded: the server holds DATA_DIR and serves its socket, so the CLI cannot open PGlite itself.
    if (sandbox.engine === 'pglite') expect(existsSync(join(sandbox.dataDir, '.s.PGSQL.5432'))).toBe(true);
    expect((await discovery()).scopes_supported).not.toContain('calendar:write');
    const result = await sandbox.cli(['resource', 'add', '--uri', 'https://calendar.example.com/mcp', '--name', 'Calendar',
      '--scope', 'calendar:read=read', '--scope', 'calendar:write=write', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((parseJsonOutput(result).resource as { uri: string }).uri).toBe('https://calendar.example.com/mcp');
    expect((await discovery()).scopes_supported).toEqual(expect.arrayContaining(['calendar:read', 'calendar:write']));
  });

  it('adds a confidential client that authenticates with its secret at the introspection endpoint', async () => {
    const added = parseJsonOutput(await sandbox.cli(['client', 'add', '--name', 'Backend', '--confidential',
      '--redirect-uri', 'https://backend.example.com/cb', '--json']));
    const introspect = (secret: string) => fetchIntrospection(String(added.client_id), secret);
    const ok = await introspect(String(added.client_secret));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ active: false });
    const wrong = await introspect('not-the-secret');
    expect(wrong.status).toBe(401);
  });

  it('adds a public client that the authorization endpoint accepts', async () => {
    const added = parseJsonOutput(await sandbox.cli(['client', 'add', '--name', 'Desktop',
      '--redirect-uri', 'http://127.0.0.1:43110/cb', '--json']));
    const query = new URLSearchParams({
      client_id: String(added.client_id),
      redirect_uri: 'http://127.0.0.1:43110/cb',
      response_type: 'code',
      scope: 'calendar:read',
      resource: 'https://calendar.example.com/mcp',
      // RFC 7636 appendix B's example challenge: any valid S256 challenge does here.
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const response = await fetch(`${server.baseUrl}/auth?${query}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/\/interaction\/[\w-]+$/);
  });
});

async function fetchIntrospection(clientId: string, secret: string): Promise<Response> {
  const { introspection_endpoint: endpoint } = await discovery();
  // RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
  const credentials = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  return fetch(endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: 'not-a-token' }),
  });
}

describe('a relative DATA_DIR', () => {
  it('reaches the running server’s socket too (the README’s default is ./.data)', async () => {
    const relativeDataDir = relative(REPO_ROOT, sandbox.dataDir);
    expect(relativeDataDir.startsWith('/')).toBe(false);
    const result = await sandbox.cli(['user', 'list', '--json'], { DATA_DIR: relativeDataDir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
