// DATA_DIR is private to the server's user: with umask 000, after the real server starts, after a CLI
// command creates it first, and after an older version left it loose, every directory in it is 0700 and
// every file (PGlite's data, secrets.json, the lock, the socket) 0600. One owned by another user is refused.
import { chmodSync, chownSync, lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, STACK_FRAME, startServer, type Sandbox } from '../cli/harness.ts';

/** Every entry under `root` (itself included) whose permission bits are not the private ones. */
function looseEntries(root: string): string[] {
  const loose: string[] = [];
  const visit = (path: string) => {
    const stats = lstatSync(path);
    const mode = stats.mode & 0o777;
    if (stats.isDirectory()) {
      if (mode !== 0o700) loose.push(`${path} dir ${mode.toString(8)}`);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (mode !== 0o600) {
      loose.push(`${path} ${stats.isSocket() ? 'socket' : 'file'} ${mode.toString(8)}`);
    }
  };
  visit(root);
  return loose;
}

function countEntries(root: string): number {
  return 1 + (lstatSync(root).isDirectory() ? readdirSync(root).reduce((sum, name) => sum + countEntries(join(root, name)), 0) : 0);
}

let sandbox: Sandbox;
let previousUmask: number;
// Children inherit it: the server and the CLI run with the loosest umask there is.
beforeAll(() => { previousUmask = process.umask(0); });
afterAll(() => { process.umask(previousUmask); });
// A sandbox each (on PostgreSQL its own schema): a new DATA_DIR means new secrets, which must not meet
// keys encrypted with another DATA_DIR's.
beforeEach(async () => { sandbox = await createSandbox(); });
afterEach(async () => { await sandbox.cleanup(); });

const serverOn = (dataDir: string) => startServer({ ...sandbox, env: { ...sandbox.env, DATA_DIR: dataDir } });

describe('DATA_DIR modes with umask 000', () => {
  it('are private after the server creates DATA_DIR and starts, while it runs and after it stops', async () => {
    const dataDir = join(sandbox.dataDir, 'server-first');
    const server = await serverOn(dataDir);
    try {
      expect(countEntries(dataDir)).toBeGreaterThan(sandbox.engine === 'pglite' ? 100 : 1);
      expect(lstatSync(join(dataDir, 'secrets.json')).isFile()).toBe(true);
      expect(looseEntries(dataDir)).toEqual([]);
      // A CLI command while it runs (through the socket in embedded mode) leaves nothing loose either.
      const listed = await sandbox.cli(['keys', 'list'], { DATA_DIR: dataDir });
      expect(listed.code, listed.stderr).toBe(0);
      expect(looseEntries(dataDir)).toEqual([]);
    } finally {
      await server.stop();
    }
    expect(looseEntries(dataDir)).toEqual([]);
  });

  it('are private after a CLI command creates DATA_DIR first, then the server starts on it', async () => {
    const dataDir = join(sandbox.dataDir, 'cli-first');
    const rotated = await sandbox.cli(['keys', 'rotate'], { DATA_DIR: dataDir });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(lstatSync(join(dataDir, 'secrets.json')).isFile()).toBe(true);
    expect(looseEntries(dataDir)).toEqual([]);
    const server = await serverOn(dataDir);
    try {
      expect(looseEntries(dataDir)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('are tightened at start when an older version left DATA_DIR world-readable', async () => {
    const dataDir = join(sandbox.dataDir, 'older');
    const rotated = await sandbox.cli(['keys', 'rotate'], { DATA_DIR: dataDir });
    expect(rotated.code, rotated.stderr).toBe(0);
    const loosen = (path: string) => {
      const isDir = lstatSync(path).isDirectory();
      chmodSync(path, isDir ? 0o777 : 0o666);
      if (isDir) for (const name of readdirSync(path)) loosen(join(path, name));
    };
    loosen(dataDir);
    expect(looseEntries(dataDir).length).toBe(countEntries(dataDir));
    const server = await serverOn(dataDir);
    try {
      expect(looseEntries(dataDir)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('is refused with one clear line when something in it belongs to another user', async (context) => {
    if (process.getuid?.() !== 0) context.skip(); // only root can give a file away
    const dataDir = join(sandbox.dataDir, 'foreign');
    const first = await sandbox.cli(['keys', 'rotate'], { DATA_DIR: dataDir });
    expect(first.code, first.stderr).toBe(0);
    const planted = join(dataDir, 'planted');
    writeFileSync(planted, 'x');
    chownSync(planted, 65534, 65534);
    // `keys rotate` reads secrets.json, so it opens DATA_DIR on PostgreSQL too.
    const refused = await sandbox.cli(['keys', 'rotate'], { DATA_DIR: dataDir });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`DATA_DIR must be private to the user running Portcullis, but ${planted} is owned by user 65534`);
    expect(refused.stderr).not.toMatch(STACK_FRAME);
  });
});
