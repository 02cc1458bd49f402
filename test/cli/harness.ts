// Runs the real CLI (and the real server) as child processes against a throw-away database: a fresh
// DATA_DIR, plus a fresh PostgreSQL schema when DATABASE_URL is set. Shared by test/cli/*.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Db } from '../../src/db/db.ts';
import { openDb } from '../../src/db/open-db.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(REPO_ROOT, 'node_modules/.bin/tsx');
// The project's Node 22: tsx's `#!/usr/bin/env node` picks up whichever node comes first on PATH.
const NODE22_BIN = join(REPO_ROOT, '.tools/node22/node_modules/.bin');

export interface RunResult { code: number | null; stdout: string; stderr: string }

export interface Sandbox {
  engine: 'pglite' | 'postgres';
  dataDir: string;
  /** Exactly the environment the CLI and server get: nothing leaks in from the test runner's. */
  env: Record<string, string>;
  cli(args: string[], extraEnv?: Record<string, string>): Promise<RunResult>;
  /** Opens the sandbox database from the test process, as the CLI does (socket if a server runs). */
  withDb<T>(work: (db: Db) => Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

/** A Node stack frame line: no error output from the CLI may contain one. */
export const STACK_FRAME = /^\s+at .+/m;

export async function createSandbox(): Promise<Sandbox> {
  // Short: the server's unix socket path inside DATA_DIR must fit in 103 bytes.
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-cli-'));
  const env: Record<string, string> = {
    PATH: `${NODE22_BIN}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? dataDir,
    DATA_DIR: dataDir,
  };
  const baseUrl = process.env.DATABASE_URL;
  let schema: string | undefined;
  if (baseUrl) {
    schema = `cli_${randomBytes(6).toString('hex')}`;
    await adminQuery(baseUrl, `CREATE SCHEMA ${schema}`);
    // libpq's `options` parameter, which pg honours too: every connection starts in this schema.
    const options = encodeURIComponent(`-c search_path=${schema}`);
    env.DATABASE_URL = `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}options=${options}`;
  }
  return {
    engine: baseUrl ? 'postgres' : 'pglite',
    dataDir,
    env,
    cli: (args, extraEnv = {}) => runProcess([join(REPO_ROOT, 'src/cli.ts'), ...args], { ...env, ...extraEnv }),
    async withDb(work) {
      const db = await openDb({ databaseUrl: env.DATABASE_URL, dataDir, role: 'cli' });
      try {
        return await work(db);
      } finally {
        await db.close();
      }
    },
    async cleanup() {
      if (baseUrl && schema) await adminQuery(baseUrl, `DROP SCHEMA ${schema} CASCADE`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Below vitest's testTimeout (vitest.config.ts), so a hung command fails with its output, not a timeout. */
const CLI_KILL_AFTER_MS = 100_000;

function runProcess(args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    // A hung command must fail its test, not leave a process holding DATA_DIR behind. Generous: a
    // command's first PGlite initdb on a slow, busy 2-core machine has taken over 25 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_KILL_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the CLI's --json stdout, which must be exactly one JSON object. */
export function parseJsonOutput(result: RunResult): Record<string, unknown> {
  const value: unknown = JSON.parse(result.stdout);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected one JSON object on stdout, got ${result.stdout}`);
  }
  return value as Record<string, unknown>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RunningServer { baseUrl: string; stop(): Promise<void> }

/** Starts `src/main.ts` on the sandbox and waits until GET /healthz answers 200. */
export async function startServer(sandbox: Sandbox): Promise<RunningServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(TSX, [join(REPO_ROOT, 'src/main.ts')], {
    cwd: REPO_ROOT, env: { ...sandbox.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const baseUrl = `http://localhost:${port}`;
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    const healthy = await fetch(`${baseUrl}/healthz`).then((r) => r.status === 200, () => false);
    if (healthy) return { baseUrl, stop };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`server did not become healthy:\n${output}`);
}
