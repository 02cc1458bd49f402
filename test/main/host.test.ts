// HOST, the address the real server process listens on: a loopback HOST is not reachable at another
// local address, unset it listens on every interface (as before HOST existed), and a HOST that is not
// an address of this machine or not an address at all stops the server with one line naming it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.ts';

const tsxCli = join(process.cwd(), 'node_modules/tsx/dist/cli.mjs');
// One DATA_DIR for every start, one after another: the embedded database's first open is the slow one.
const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-host-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, [tsxCli, 'src/main.ts'], {
    // Embedded whatever the suite runs on: where the server listens does not depend on the database.
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => { child.kill('SIGTERM'); return exited; };
  return { child, exited, stop, output: () => output };
}

/** The status of GET /healthz at `host`, or the connection error's code. */
const healthAt = (host: string, port: number) =>
  fetch(`http://${host}:${port}/healthz`).then((r) => r.status, (error: { cause?: { code?: string } }) => error.cause?.code ?? 'failed');

async function untilReady(server: ReturnType<typeof startServer>, host: string, port: number) {
  const deadline = Date.now() + 90_000;
  while ((await healthAt(host, port)) !== 200) {
    if (server.child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('HOST', () => {
  it('127.0.0.1 answers there and refuses the connection at 127.0.0.2; unset, both answer', async () => {
    const port = await freePort();
    const loopback = startServer({ HOST: '127.0.0.1', PORT: String(port) });
    await untilReady(loopback, '127.0.0.1', port);
    expect(await healthAt('127.0.0.2', port)).toBe('ECONNREFUSED');
    expect(loopback.output()).toContain('"address":"127.0.0.1"');
    expect(await loopback.stop()).toBe(0);

    const everywhere = startServer({ PORT: String(port) });
    await untilReady(everywhere, '127.0.0.1', port);
    expect(await healthAt('127.0.0.2', port)).toBe(200);
    expect(everywhere.output()).toMatch(/"address":"(::|0\.0\.0\.0)"/);
    expect(await everywhere.stop()).toBe(0);
  });

  it('that is no address of this machine stops the server with one line naming HOST', async () => {
    // 192.0.2.1: TEST-NET-1 (RFC 5737), never assigned to a real interface.
    const server = startServer({ HOST: '192.0.2.1', PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('Portcullis could not start: HOST 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL)');
    expect(server.output()).not.toMatch(/at .*\.ts:\d+/);
  });

  it.each(['http://127.0.0.1', '127.0.0.1:4000', '[::1]', 'two words'])('%s is a configuration error naming HOST', async (host) => {
    const server = startServer({ HOST: host, PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('Invalid configuration');
    expect(server.output()).toContain('HOST: must be an IP address or a host name');
  });
});
