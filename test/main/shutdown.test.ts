// Graceful shutdown of the real server process: on SIGTERM it stops accepting connections, finishes
// the request in flight, closes the database and exits 0.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, REPO_ROOT, type Sandbox } from '../cli/harness.ts';

let sandbox: Sandbox;
beforeAll(async () => { sandbox = await createSandbox(); });
afterAll(async () => sandbox?.cleanup());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('graceful shutdown', () => {
  it('finishes the request in flight, refuses new connections, closes the database and exits 0', async () => {
    const port = await freePort();
    const child = spawn(join(REPO_ROOT, 'node_modules/.bin/tsx'), [join(REPO_ROOT, 'src/main.ts')], {
      cwd: REPO_ROOT, env: { ...sandbox.env, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 225 && !(await fetch(`${base}/healthz`).then((r) => r.ok, () => false)); i += 1) await sleep(200);

      // A token request whose body is still arriving when the signal comes: it is in flight.
      const body = 'grant_type=refresh_token&refresh_token=not-a-token&client_id=nobody';
      const inFlight = request(`${base}/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) },
      });
      const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
        inFlight.on('response', (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        });
        inFlight.on('error', reject);
      });
      inFlight.write(body.slice(0, 10));
      await sleep(300);
      child.kill('SIGTERM');
      await sleep(500);

      // No new connection is accepted any more...
      expect(await fetch(`${base}/healthz`).then(() => 'answered', (error: Error) => String((error.cause as Error)?.message ?? error))).toMatch(/ECONNREFUSED/);
      expect(child.exitCode).toBeNull(); // ...but the process waits for the request in flight,
      inFlight.end(body.slice(10));
      const response = await answered; // which gets its whole answer.
      expect(response.status).toBe(401);
      expect(JSON.parse(response.text)).toMatchObject({ error: 'invalid_client' });
      expect(await exited).toBe(0);
      expect(output).toMatch(/"msg":"shutting down"/);
      expect(output).toMatch(/"msg":"stopped"/);
      // The embedded database was closed and its lock released: a CLI command opens it directly.
      expect((await sandbox.cli(['user', 'list', '--json'])).code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
