// The kit as a newcomer gets it: built, packed with `npm pack`, installed from the tarball into a fresh
// project outside this repository, and run under plain `node` (no tsx, no TypeScript) against a local AS.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const packageDir = join(repoRoot, 'packages/resource-server');
const NPM_TIMEOUT_MS = 240_000;

/** The environment of a user's shell: none of the npm-script or loader variables this test may run under. */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) =>
    name !== 'NODE_OPTIONS' && name !== 'INIT_CWD' && (!name.toLowerCase().startsWith('npm_') || keep.has(name.toLowerCase()))));
}

const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--no-audit', '--no-fund'], { cwd, env: cleanEnv(), timeout: NPM_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });

// What a user writes: the core plus the node adapter, and a tool that needs a scope the token may lack.
const SERVER_MJS = `
import { createServer } from 'node:http';
import { createResourceServer, createToolScopes } from '@portcullis/resource-server';
import { nodeBearerAuth, nodeProtectedResourceMetadata } from '@portcullis/resource-server/node';
// Adapters whose framework is not installed still load: they import their framework for types only.
await import('@portcullis/resource-server/koa');
await import('@portcullis/resource-server/mcp-sdk-v1');
await import('@portcullis/resource-server/mcp-sdk-v2');

const rs = createResourceServer({ resource: process.env.RESOURCE, issuer: process.env.ISSUER, scopesSupported: ['notes:read'] });
const metadata = nodeProtectedResourceMetadata(rs);
const auth = nodeBearerAuth(rs, { toolScopes: createToolScopes({ add_note: ['notes:write'] }) });
const server = createServer((req, res) => {
  if (metadata(req, res)) return;
  auth(req, res, () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: req.body?.id ?? null, result: { subject: req.auth.subject } }));
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

// A TypeScript user: the published declarations must resolve on their own (no skipLibCheck).
const CONSUMER_TS = `
import { createResourceServer, isResourceServerError, type AccessTokenInfo } from '@portcullis/resource-server';
import { nodeBearerAuth, type NodeRequest } from '@portcullis/resource-server/node';
const rs = createResourceServer({ resource: 'https://mcp.example.com/mcp', issuer: 'https://as.example.com' });
export const guard: (req: NodeRequest, res: import('node:http').ServerResponse, next: () => void) => Promise<void> = nodeBearerAuth(rs);
export const subject = (info: AccessTokenInfo): string | undefined => (isResourceServerError(info) ? undefined : info.subject);
`;

describe('the kit installed from its tarball', () => {
  let work: string;
  let project: string;
  let as: FakeAs;
  let server: ChildProcess | undefined;
  let baseUrl: string;
  let packedFiles: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'portcullis-kit-'));
    project = join(work, 'app');
    // `npm pack` runs the package's prepack script, which builds dist/ with tsc.
    const { stdout } = await npm(['pack', '--json', '--pack-destination', work], packageDir);
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    packedFiles = packed!.files.map((file) => file.path).sort();

    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'kit-user', private: true, type: 'module' }));
    await npm(['install', '--prefer-offline', join(work, packed!.filename)], project);
    writeFileSync(join(project, 'server.mjs'), SERVER_MJS);

    as = await startFakeAs();
    const child = spawn(process.execPath, ['server.mjs'], {
      cwd: project, env: { ...cleanEnv(), RESOURCE, ISSUER: as.issuer }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`server.mjs exited ${code}: ${stderr}`)));
    });
    baseUrl = `http://127.0.0.1:${port}`;
  }, 2 * NPM_TIMEOUT_MS);

  afterAll(async () => {
    server?.kill();
    await as?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the compiled JavaScript, its declarations and the README, and no TypeScript sources', () => {
    expect(packedFiles).toContain('dist/index.js');
    expect(packedFiles).toContain('dist/index.d.ts');
    expect(packedFiles).toContain('dist/node.js');
    expect(packedFiles).toContain('README.md');
    expect(packedFiles.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    expect(packedFiles.filter((path) => !path.startsWith('dist/') && path !== 'README.md' && path !== 'package.json')).toEqual([]);
  });

  it('installs jose and nothing else', async () => {
    const { stdout } = await npm(['ls', '--all', '--parseable'], project);
    const installed = stdout.trim().split('\n').slice(1).map((path) => path.slice(path.lastIndexOf('node_modules/') + 13)).sort();
    expect(installed).toEqual(['@portcullis/resource-server', 'jose']);
  });

  it('answers a request without a token 401 with the RFC 9728 resource_metadata pointer', async () => {
    const response = await fetch(`${baseUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(
      'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"');
    const metadata = await fetch(`${baseUrl}/.well-known/oauth-protected-resource/mcp`);
    expect(await metadata.json()).toMatchObject({ resource: RESOURCE, authorization_servers: [as.issuer] });
  });

  it('lets a valid token through, and asks for the scope a tool needs by step-up', async () => {
    const token = await as.sign({ scope: 'notes:read' });
    const call = (name: string) => fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } }),
    });
    const allowed = await call('list_notes');
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ jsonrpc: '2.0', id: 7, result: { subject: 'user-1' } });

    const stepUp = await call('add_note');
    expect(stepUp.status).toBe(403);
    expect(stepUp.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="notes:read notes:write"/);
  });

  it('type-checks a TypeScript consumer against the published declarations', async () => {
    writeFileSync(join(project, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true,
        types: ['node'], typeRoots: [join(repoRoot, 'node_modules/@types')],
      },
      files: ['consumer.ts'],
    }));
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, env: cleanEnv() })
      .then(() => 'ok', (error: { stdout?: string }) => error.stdout ?? String(error));
    expect(result).toBe('ok');
  });
});
