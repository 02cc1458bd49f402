// The real server process: clear messages for bad configuration and for a data directory another
// process holds, generated secrets persisted and never printed, and a clean shutdown.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const tsxCli = join(process.cwd(), 'node_modules/tsx/dist/cli.mjs');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, [tsxCli, 'src/main.ts'], {
    env: { ...process.env, DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitForHealth(port: number, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('server did not become healthy');
}

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ ISSUER: 'ftp://example.com' }, 'ISSUER'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REFRESH_GRACE_SECONDS: '-1' }, 'REFRESH_GRACE_SECONDS'],
  ])('%o stops the server with a message naming the variable', async (env, name) => {
    const server = startServer(env);
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('Invalid configuration');
    expect(server.output()).toContain(name);
    expect(server.output()).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});

describe('LOG_LEVEL', () => {
  it('silent leaves out the info lines and the server still serves', async () => {
    const port = await freePort();
    const server = startServer({ DATA_DIR: mkdtempSync(join(tmpdir(), 'portcullis-log-')), PORT: String(port), LOG_LEVEL: 'silent' });
    try {
      await waitForHealth(port);
      expect(server.output()).not.toContain('Portcullis is ready');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-main-'));
  let first: ReturnType<typeof startServer> | undefined;
  afterAll(() => { first?.child.kill('SIGKILL'); });

  it('starts on an empty DATA_DIR, keeps secrets private, refuses a second process, and stops cleanly', async () => {
    const port = await freePort();
    first = startServer({ DATA_DIR: dataDir, PORT: String(port) });
    await waitForHealth(port);
    const secretsFile = join(dataDir, 'secrets.json');
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as { cookieKeys: string[]; keyEncryptionSecret: string };
    expect(first.output()).not.toContain(secrets.keyEncryptionSecret);
    expect(first.output()).not.toContain(secrets.cookieKeys[0]);

    const second = startServer({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/in use by process \d+|is in use/);
    expect(second.output()).not.toMatch(/at .*\.ts:\d+/);

    const samePort = startServer({ DATA_DIR: mkdtempSync(join(tmpdir(), 'portcullis-port-')), PORT: String(port) });
    expect(await samePort.exited).toBe(1);
    expect(samePort.output()).toContain(`port ${port} is already in use`);
    expect(samePort.output()).not.toMatch(/at .*\.ts:\d+/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('shutting down');
  });
});

describe('an unusable DATA_DIR', () => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-datadir-'));
  const aFile = join(root, 'a-file');
  writeFileSync(aFile, 'not a directory');
  const readOnly = join(root, 'read-only');
  mkdirSync(readOnly);
  // Root ignores file modes, so a read-only directory needs a read-only mount (tmpfs mounted ro).
  const canMount = process.getuid?.() === 0;
  if (canMount) execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
  afterAll(() => { if (canMount) execFileSync('umount', [readOnly]); });

  const cases: Array<[string, () => string, RegExp]> = [
    ['is a file', () => aFile, /DATA_DIR .*a-file is not a directory/],
    ['is below a file', () => join(aFile, 'data'), /DATA_DIR .*a-file\/data is not a directory \(or is below a file\)/],
    ...(canMount ? [
      ['is on a read-only mount', () => readOnly, /DATA_DIR .*read-only is on a read-only file system/],
      ['is missing below a read-only mount', () => join(readOnly, 'data'), /DATA_DIR .*read-only\/data does not exist and cannot be created/],
    ] satisfies Array<[string, () => string, RegExp]> : []),
  ];
  it.each(cases)('stops the server with one line when DATA_DIR %s', async (_label, dataDir, message) => {
    const server = startServer({ DATA_DIR: dataDir(), PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    const lines = server.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/^Portcullis could not start: .*point DATA_DIR at a writable directory/);
  });
});
