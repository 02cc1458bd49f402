// Keeps socket clients and the owning process out of each other's transactions: PGlite is ONE Postgres
// session, so otherwise a CLI statement runs inside the server's open transaction, and vice versa.
import type { PGlite } from '@electric-sql/pglite';

// What PGLiteSocketServer 0.2.17 calls on its `db` (read from its source): nothing else is needed.
export type SocketFacingDb = Pick<PGlite, 'waitReady' | 'isInTransaction' | 'runExclusive' | 'execProtocolRawStream' | 'exec'>;

type RawStreamOptions = Parameters<PGlite['execProtocolRawStream']>[1];

const READY_FOR_QUERY_IDLE = [0x5a, 0, 0, 0, 5, 0x49]; // 'Z', length 5, status 'I' (idle, no transaction)
const SYNC_MESSAGE = new Uint8Array([0x53, 0, 0, 0, 4]); // 'S': ends a half-sent extended-protocol cycle
const TERMINATE = 0x58; // 'X'
const WATCHDOG_MS = 200;

/**
 * The socket side holds PGlite's transaction mutex — the one `query`, `exec` and `transaction` of the
 * owning process take — from its first protocol message until PGlite answers ReadyForQuery with status
 * idle. So a socket client's whole cycle (Parse…Sync, or BEGIN…COMMIT) runs with no direct query in
 * between, and a socket message waits while a direct transaction is open.
 */
export class PgliteSessionGate implements SocketFacingDb {
  readonly #pglite: PGlite;
  readonly #hasSocketClients: () => boolean;
  #hold: Promise<() => void> | undefined;
  #holding = false;
  #watchdog: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(pglite: PGlite, hasSocketClients: () => boolean) {
    this.#pglite = pglite;
    this.#hasSocketClients = hasSocketClients;
  }

  get waitReady(): Promise<void> {
    return this.#pglite.waitReady;
  }

  // The socket server asks this to decide whether to run only the last client's queries, and whether
  // a disconnecting client left a transaction to roll back. Only a socket-held transaction counts: the
  // owning process's own transaction is none of its business (and must not be rolled back by it), and
  // counting it would stall the queue of a client that connects during it, waiting for the previous one.
  isInTransaction(): boolean {
    return !this.#disposed && this.#holding && this.#pglite.isInTransaction();
  }

  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#disposed) throw new Error('PGlite socket is shutting down');
    await this.#acquire();
    return this.#pglite.runExclusive(fn);
  }

  async execProtocolRawStream(message: Uint8Array, options: RawStreamOptions): Promise<void> {
    let tail: number[] = [];
    try {
      await this.#pglite.execProtocolRawStream(message, {
        ...options,
        onRawData: (data) => {
          tail = [...tail, ...data.subarray(Math.max(0, data.length - 6))].slice(-6);
          options.onRawData(data);
        },
      });
    } catch (error) {
      if (!this.#pglite.isInTransaction()) this.#release();
      throw error;
    }
    const idle = tail.length === 6 && tail.every((byte, i) => byte === READY_FOR_QUERY_IDLE[i]);
    // Terminate ('X') gets no answer; outside a transaction the client is done with the session.
    const terminated = message[0] === TERMINATE && !this.#pglite.isInTransaction();
    if (idle || terminated) this.#release();
  }

  // The socket server calls exec('ROLLBACK') when a client disconnects mid-transaction. It must not
  // go through pglite.exec, which waits for the mutex this gate is holding.
  async exec(sql: string): Promise<[]> {
    if (this.#disposed) return [];
    await this.runExclusive(() => this.execProtocolRawStream(simpleQuery(sql), { onRawData: () => {} }));
    return [];
  }

  /** Stops the watchdog and frees the owning process, whatever state a socket client left behind. */
  async dispose(): Promise<void> {
    if (this.#holding) await this.#resetSession().catch(() => {});
    this.#disposed = true;
    this.#release();
  }

  #acquire(): Promise<() => void> {
    if (this.#hold === undefined) {
      this.#hold = new Promise((resolveHold) => {
        // `_runExclusiveTransaction` is PGlite's transaction mutex (public in its typings, underscored
        // as internal). We enter it and stay until #release resolves the inner promise.
        void this.#pglite._runExclusiveTransaction(
          () =>
            new Promise<void>((release) => {
              this.#holding = true;
              resolveHold(release);
            }),
        );
      });
      this.#watchdog = setInterval(() => void this.#checkAbandoned(), WATCHDOG_MS);
      this.#watchdog.unref();
    }
    return this.#hold;
  }

  #release(): void {
    const hold = this.#hold;
    if (hold === undefined) return;
    this.#hold = undefined;
    this.#holding = false;
    clearInterval(this.#watchdog);
    void hold.then((release) => release());
  }

  // A client that disconnects between Parse and Sync leaves the gate held with no transaction for the
  // socket server to roll back; with no client connected, end the cycle ourselves.
  async #checkAbandoned(): Promise<void> {
    if (!this.#holding || this.#hasSocketClients()) return;
    await this.#resetSession().catch(() => {});
  }

  async #resetSession(): Promise<void> {
    const message = this.#pglite.isInTransaction() ? simpleQuery('ROLLBACK') : SYNC_MESSAGE;
    await this.runExclusive(() => this.execProtocolRawStream(message, { onRawData: () => {} }));
  }
}

/** A protocol 'Q' (simple query) message: type byte, int32 length, the SQL, a NUL. */
function simpleQuery(sql: string): Uint8Array {
  const text = new TextEncoder().encode(sql);
  const message = new Uint8Array(1 + 4 + text.length + 1);
  const view = new DataView(message.buffer);
  message[0] = 0x51;
  view.setInt32(1, 4 + text.length + 1);
  message.set(text, 5);
  return message;
}
