// Every server and load generator of the bench runs in its own Node process: started here with
// tsx, driven by request/response messages over the IPC channel, stopped by its pid.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The Node flags the server runs with in package.json's start scripts and the image (a young generation
 * of up to 32 MiB a semi-space: fewer scavenges under load). Every process of the bench gets them, the
 * yardsticks and the load generator alike, so a ratio compares code, not flags;
 * test/bench/server-node-flags.test.ts keeps the start scripts, the image and this equal.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=32'];

type Message = { type: 'ready'; value: unknown } | { type: 'reply'; id: number; ok: boolean; value?: unknown; error?: string };

export interface Child<Ready> {
  readonly name: string;
  readonly pid: number;
  /** What the child sent when it was ready (e.g. the port it listens on). */
  readonly ready: Promise<Ready>;
  call<T>(command: string, payload?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface ChildOptions {
  /** Extra Node flags (e.g. --expose-gc for a process whose memory is measured). */
  nodeFlags?: string[];
  /** Where the child's stdout goes (a file descriptor, e.g. a log file); the bench's own by default. */
  stdout?: number;
}

/** Forks bench/<script> under tsx with extra environment variables. */
export function startChild<Ready>(name: string, script: string, env: Record<string, string> = {}, options: ChildOptions = {}): Child<Ready> {
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    // The kit is loaded from its TypeScript sources, as `npm run bench` does (see package.json).
    execArgv: ['--import', import.meta.resolve('tsx'), '--conditions=portcullis-source', ...SERVER_NODE_FLAGS, ...(options.nodeFlags ?? [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const ready = new Promise<Ready>((resolve, reject) => {
    child.on('message', (message: Message) => {
      if (message.type === 'ready') resolve(message.value as Ready);
      else {
        const caller = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.ok) caller?.resolve(message.value);
        else caller?.reject(new Error(`${name}: ${message.error}`));
      }
    });
    child.on('exit', (code, signal) => {
      exited = true;
      const error = new Error(`${name} exited (${signal ?? code})`);
      reject(error);
      for (const caller of waiting.values()) caller.reject(error);
      waiting.clear();
    });
  });
  ready.catch(() => {});
  return {
    name,
    pid: child.pid ?? -1,
    ready,
    call<T>(command: string, payload?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, command, payload });
      });
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ id: 0, command: 'shutdown' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

type Handlers = Record<string, (payload: never) => unknown>;

/** The child's side: announce readiness, answer commands, exit on `shutdown` or when the parent goes. */
export function serveCommands(ready: unknown, handlers: Handlers, onShutdown: () => Promise<void> = async () => {}): void {
  const send = (message: Message) => process.send?.(message);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await onShutdown();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', async (message: { id: number; command: string; payload: unknown }) => {
    if (message.command === 'shutdown') return shutdown();
    const handler = handlers[message.command];
    try {
      if (!handler) throw new Error(`unknown command ${message.command}`);
      send({ type: 'reply', id: message.id, ok: true, value: await handler(message.payload as never) });
    } catch (error) {
      send({ type: 'reply', id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
  process.on('disconnect', () => void shutdown());
  send({ type: 'ready', value: ready });
}
