// The DATA_DIR lock: one live owner at a time, a clear error naming it, and takeover of a lock whose
// process is gone. Engine-independent: runs the same with or without DATABASE_URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirInUseError, findLiveLockHolder, LOCK_FILE_NAME } from '../../src/db/data-dir-lock.ts';

let dataDir: string;
let lockPath: string;
let child: ChildProcess | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'portcullis-lock-'));
  lockPath = join(dataDir, LOCK_FILE_NAME);
});

afterEach(() => {
  child?.kill();
  child = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('acquireDataDirLock', () => {
  it('writes our pid, refuses a second acquire while held, and frees the directory on release', () => {
    const lock = acquireDataDirLock(dataDir);
    expect(readFileSync(lockPath, 'utf8').trim()).toBe(String(process.pid));
    expect(findLiveLockHolder(dataDir)).toBe(process.pid);

    let error: unknown;
    try {
      acquireDataDirLock(dataDir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect(error).toMatchObject({ code: 'DATA_DIR_IN_USE', pid: process.pid, dataDir });
    expect(String(error)).toContain(`in use by process ${process.pid}`);
    expect(String(error)).toContain('the CLI talks to it through its socket');

    lock.release();
    expect(existsSync(lockPath)).toBe(false);
    expect(findLiveLockHolder(dataDir)).toBeUndefined();
    acquireDataDirLock(dataDir).release();
  });

  it('names another live process that holds the lock', async () => {
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not start a child process');
    writeFileSync(lockPath, `${pid}\n`);
    expect(() => acquireDataDirLock(dataDir)).toThrow(`in use by process ${pid}`);
    // Refusing must not remove the other process's lock.
    expect(readFileSync(lockPath, 'utf8').trim()).toBe(String(pid));
  });

  it('takes over a stale lock left by a process that no longer exists', () => {
    const deadPid = 999_999;
    expect(isAlive(deadPid)).toBe(false);
    writeFileSync(lockPath, `${deadPid}\n`);
    expect(findLiveLockHolder(dataDir)).toBeUndefined();
    const lock = acquireDataDirLock(dataDir);
    expect(readFileSync(lockPath, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('treats an empty lock file (crash between create and write) as stale', () => {
    writeFileSync(lockPath, '');
    acquireDataDirLock(dataDir).release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('release leaves alone a lock that another process has since taken', () => {
    const lock = acquireDataDirLock(dataDir);
    writeFileSync(lockPath, '999999\n');
    lock.release();
    expect(readFileSync(lockPath, 'utf8').trim()).toBe('999999');
  });

  it('removes the lock when the process exits', async () => {
    const script = `
      const { acquireDataDirLock } = await import(${JSON.stringify(new URL('../../src/db/data-dir-lock.ts', import.meta.url).href)});
      acquireDataDirLock(${JSON.stringify(dataDir)});
      process.exit(0);
    `;
    const exitCode = await new Promise<number | null>((resolve) => {
      child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'inherit' });
      child.on('exit', resolve);
    });
    expect(exitCode).toBe(0);
    expect(existsSync(lockPath)).toBe(false);
  });
});
