// One process at a time owns an embedded DATA_DIR: PGlite is a single Postgres session in one process,
// and two of them writing the same files would corrupt the database. This file owns that lock.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE_NAME = 'portcullis.lock';

export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';

  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by process ${pid} (a Portcullis server or CLI command). ` +
        `Embedded PGlite can be opened by one process only; while a server runs, the CLI talks to it ` +
        `through its socket ${join(dataDir, '.s.PGSQL.5432')}. If no process ${pid} is running, ` +
        `delete ${join(dataDir, LOCK_FILE_NAME)}.`,
    );
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it still names this process; safe to call more than once. */
  release(): void;
}

/** Takes the lock on `dataDir` (which must exist), or throws DataDirInUseError naming the holder. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  // Two attempts: the second follows the removal of a stale lock left by a process that died.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path)) {
      // Between a stale-lock removal and our create, another starter may have done the same; read
      // back so that at least one of two racing processes notices. (A narrower race remains; it needs
      // two processes starting within microseconds after a crash.)
      const holder = readHolder(path);
      if (holder !== process.pid) throw new DataDirInUseError(dataDir, holder ?? -1);
      return holdLock(path);
    }
    const holder = readHolder(path);
    if (holder !== undefined && isAlive(holder)) throw new DataDirInUseError(dataDir, holder);
    removeIfExists(path);
  }
  throw new Error(`Could not take the lock ${path}: it keeps reappearing; another process is starting?`);
}

/** The pid of the live process holding `dataDir`, if any (used to pick socket vs direct access). */
export function findLiveLockHolder(dataDir: string): number | undefined {
  const holder = readHolder(join(dataDir, LOCK_FILE_NAME));
  return holder !== undefined && isAlive(holder) ? holder : undefined;
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    // O_EXCL ('wx'): the create fails if the file exists, atomically, so only one process wins.
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function holdLock(path: string): DataDirLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only our own lock: after a stale takeover by someone else, the file is theirs.
    if (readHolder(path) === process.pid) removeIfExists(path);
  };
  // 'exit' handlers must be synchronous; this one covers process.exit() and a normal end. A kill -9
  // leaves the file behind, which the next start treats as stale because the pid is dead.
  process.on('exit', release);
  return { path, release };
}

function readHolder(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(text.trim());
  // An empty or garbled file (a crash between create and write) counts as stale.
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return errorCode(error) === 'EPERM';
  }
}

function removeIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
