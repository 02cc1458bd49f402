// DATA_DIR is private to the server's user: directories 0700, every file (database, secrets, lock, socket)
// 0600, whatever the umask, whichever file came first, and also for a DATA_DIR an older version left loose.
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** DATA_DIR (or something in it) belongs to another user: we cannot make it private, so we do not use it. */
export class DataDirNotPrivateError extends Error {
  readonly code = 'DATA_DIR_NOT_PRIVATE';

  constructor(readonly path: string, reason: string) {
    super(`DATA_DIR must be private to the user running Portcullis, but ${path} ${reason}. ` +
      `Fix its owner (chown -R) or point DATA_DIR at a directory of this user.`);
    this.name = 'DataDirNotPrivateError';
  }
}

/** Creates DATA_DIR if missing and makes everything in it private (see tightenDataDir). */
export function ensurePrivateDataDir(dataDir: string): void {
  // The mode given to mkdir is masked by the umask; tightenDataDir sets it exactly just after.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  tightenDataDir(dataDir);
}

/**
 * Sets 0700 on every directory and 0600 on every other entry under `dataDir`. PGlite writes its initdb
 * files 0666 and its relcache files 0644 whatever the umask (see FACTS), so this runs after each open
 * too. Links inside are not followed: DATA_DIR never holds one we made, and chmod would reach its target.
 */
export function tightenDataDir(dataDir: string): void {
  const uid = process.getuid?.();
  const visit = (path: string, isRoot: boolean): void => {
    // DATA_DIR itself may be a link the operator made to a directory elsewhere: that one is followed.
    const stats = whileItExists(() => (isRoot ? statSync(path) : lstatSync(path)));
    if (!stats || stats.isSymbolicLink()) return;
    if (uid !== undefined && stats.uid !== uid) throw new DataDirNotPrivateError(path, `is owned by user ${stats.uid}, not ${uid}`);
    const wanted = stats.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE;
    if ((stats.mode & 0o777) !== wanted) whileItExists(() => chmodSync(path, wanted));
    if (stats.isDirectory()) {
      for (const name of whileItExists(() => readdirSync(path)) ?? []) visit(join(path, name), false);
    }
  };
  visit(dataDir, true);
}

/** Runs `step`, or returns undefined if its file was removed meanwhile (PGlite deletes temporary files). */
function whileItExists<T>(step: () => T): T | undefined {
  try {
    return step();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
