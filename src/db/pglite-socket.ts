// Serves the server's embedded PGlite on a unix socket inside DATA_DIR, so CLI commands (another
// process) reach the same database with plain `pg` while the server keeps querying it directly.
import { chmodSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PgliteSessionGate } from './pglite-session-gate.ts';

// libpq's naming: `pg` with `host: dataDir` (a directory) and port 5432 connects to this path.
export const PGLITE_SOCKET_NAME = '.s.PGSQL.5432';

// sun_path is 108 bytes on Linux and 104 on macOS, including the NUL; beyond that listen() fails with
// an obscure error, so say it plainly.
const MAX_SOCKET_PATH_BYTES = 103;

export function pgliteSocketPath(dataDir: string): string {
  return join(dataDir, PGLITE_SOCKET_NAME);
}

export interface PgliteSocket {
  readonly path: string;
  /** Disconnects socket clients (rolling back what they left open) and removes the socket file. */
  stop(): Promise<void>;
}

/*
 * How @electric-sql/pglite-socket 0.2.17 handles connections (read from its source):
 * - `maxConnections` defaults to 1 and is also set on the net.Server, so a second client while one is
 *   connected is dropped at once (pg sees EPIPE / "Connection terminated"); we keep 1: the CLI
 *   connects with max 1 and runs one command at a time.
 * - Every protocol message from every client goes through ONE queue, one message at a time under
 *   PGlite's query mutex; while PGlite is inside a transaction it only runs messages from the client
 *   that sent the last one. With several clients, one client's Parse can still land between another's
 *   Parse and Bind (they share the unnamed statement), another reason to stay at one connection.
 * - It takes only PGlite's query mutex, not the transaction mutex the owning process uses, so socket
 *   statements would interleave with the server's own transactions: PgliteSessionGate fixes that.
 * - It does no authentication: anyone who can open the socket owns the database, so the socket is
 *   made owner-only (and DATA_DIR itself is created 0700 by open-db.ts).
 */
export async function servePgliteOnSocket(pglite: PGlite, dataDir: string): Promise<PgliteSocket> {
  const path = pgliteSocketPath(dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`DATA_DIR path is too long for a unix socket (${path}); use a shorter DATA_DIR`);
  }
  // Our caller holds the DATA_DIR lock, so a socket file still here belongs to a process that died.
  removeIfExists(path);

  const gate = new PgliteSessionGate(pglite, () => server.getStats().activeConnections > 0);
  // The server only calls the methods the gate implements (SocketFacingDb); its option is typed PGlite.
  const server = new PGLiteSocketServer({ db: gate as unknown as PGlite, path, maxConnections: 1 });
  await server.start();
  chmodSync(path, 0o600);

  let stopped = false;
  return {
    path,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      // stop() detaches clients without waiting for their rollback; the gate finishes the job so the
      // owning process can close PGlite (whose close() waits for the mutex the gate may hold).
      await gate.dispose();
      removeIfExists(path);
    },
  };
}

function removeIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code !== 'ENOENT') throw error;
  }
}
