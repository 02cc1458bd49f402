// Checks at start that DATA_DIR exists (creating it) and can be written, so a read-only mount, a path
// under a file or a directory we may not write stops the server with one line naming the fix.
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** DATA_DIR cannot hold the embedded database or the generated secrets. */
export class DataDirUnusableError extends Error {
  readonly code = 'DATA_DIR_UNUSABLE';

  constructor(dataDir: string, problem: string) {
    super(`DATA_DIR ${dataDir} ${problem}; point DATA_DIR at a writable directory (or fix its mount and permissions)`);
    this.name = 'DataDirUnusableError';
  }
}

// Node words these codes for a programmer; the operator gets what they mean for the directory.
const PROBLEMS: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable by this process',
  EPERM: 'is not writable by this process',
  ENOTDIR: 'is not a directory (or is below a file)',
  EEXIST: 'is not a directory',
  ENOSPC: 'is on a full disk',
  EDQUOT: 'is over its disk quota',
};

/** Creates `dataDir` (0700) if missing and proves it writable with a probe file; throws DataDirUnusableError. */
export function ensureWritableDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    // A write, not an access() check: a read-only mount passes access(W_OK) for root.
    const probe = join(dataDir, `.write-probe-${process.pid}`);
    const fd = openSync(probe, 'w', 0o600);
    try {
      writeSync(fd, 'ok');
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // mkdir -p inside a read-only mount reports ENOENT for the part it could not create.
    const problem = PROBLEMS[code] ?? (code === 'ENOENT' ? 'does not exist and cannot be created' : `cannot be used (${code || (error as Error).message})`);
    throw new DataDirUnusableError(dataDir, problem);
  }
}
