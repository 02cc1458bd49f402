// Structured JSON logs through pino: one line per event on stdout (errors on stderr), filtered by
// LOG_LEVEL. Callers pass facts, never a token, code, password or secret; redaction (log-redaction.ts) is the
// safety net.
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactSecrets } from './log-redaction.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

// stdout is written asynchronously and in 12 KiB batches (sonic-boom, which writes at most 16 KiB at once;
// pino writes what is left when the process exits): on a file or a pipe Node writes process.stdout
// synchronously, one system call per line on the request path, and system calls are what costs most on
// small virtual machines (issue 17: the access log measured at 0.70-0.83x of LOG_LEVEL=warn). A quiet
// server's lines wait at most a second (periodicFlush); a process killed outright (SIGKILL) can lose that
// second. Errors stay synchronous on stderr: the last words of a failing process must not wait.
let stdout: DestinationStream | undefined;

// A process that never configures logging (tests, the CLI, whose stdout scripts parse) logs warnings
// and errors only; the server sets LOG_LEVEL at start (main.ts).
let level: LogLevel = 'warn';
let destination: DestinationStream | undefined;
let logger: Logger = build();
let accessLogger: Logger = build({ redact: false });

/** The access log's fields: scalars under fixed names, none a credential's, so redaction could never fire on them. */
export interface AccessLogFields {
  method: string; path: string; route: string | undefined; status: number; duration_ms: number;
  request_id: string | undefined; ip: string;
}

function build({ redact = true } = {}): Logger {
  stdout ??= pino.destination({ dest: 1, sync: false, minLength: 12 * 1024, periodicFlush: 1000 });
  const stream = destination ?? pino.multistream(
    [{ level: 'debug', stream: stdout }, { level: 'error', stream: process.stderr }],
    { dedupe: true },
  );
  return pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The access log's line (one per request) skips the redaction pass: its fields are fixed (AccessLogFields).
    formatters: { level: (label) => ({ level: label }), ...(redact ? { log: redactSecrets } : {}) },
  }, stream);
}

export function setLogLevel(next: LogLevel): void {
  level = next;
  logger.level = next;
  accessLogger.level = next;
}

/** Sends log lines to `stream` instead of stdout/stderr (tests capture them); undefined restores. */
export function setLogDestination(stream: DestinationStream | undefined): void {
  destination = stream;
  logger = build();
  accessLogger = build({ redact: false });
}

export const log = {
  debug: (msg: string, fields: Record<string, unknown> = {}) => logger.debug(fields, msg),
  info: (msg: string, fields: Record<string, unknown> = {}) => logger.info(fields, msg),
  warn: (msg: string, fields: Record<string, unknown> = {}) => logger.warn(fields, msg),
  error: (msg: string, fields: Record<string, unknown> = {}) => logger.error(fields, msg),
  /**
   * Writes the batched stdout lines now: for a line someone waits on (the server's "ready", which process
   * managers and tests read before they send requests), not for the request path.
   */
  flush: () => {
    if (destination) return;
    try {
      (stdout as { flushSync?: () => void } | undefined)?.flushSync?.();
    } catch {
      // A write already under way, or stdout closed: the batch goes out with the next write.
    }
  },
  /** One request's access-log line, at info. */
  request: (fields: AccessLogFields) => accessLogger.info(fields, 'request'),
  /** Whether a level is on: skip building fields nobody will read (the access log is per request). */
  enabled: (at: Exclude<LogLevel, 'silent'>) => logger.isLevelEnabled(at),
};

/** An error's message and stack, for a log field. */
export const describeThrown = (error: unknown) => String((error as Error)?.stack ?? error);
