// Every tool call, end to end (issue 14 §6): the kit records each tools/call it admits or refuses (who, which
// tool, a digest of the arguments, never their content, the decision, duration, result size) and sends the
// records to the authorization server in batches, from a bounded buffer, never on the path of the call itself.
import { hash } from 'node:crypto';
import { postJson, type PostJsonOptions } from './post-json.ts';
import { canonicalJson } from './tool-digest.ts';
import { toolCallerOf, type ToolCallDecision } from './tool-pins.ts';

/** What became of a call: run, refused for a missing scope, by its pin, or by a budget or the result-size cap (tool-pins.ts). */
export type ToolCallOutcome = 'allowed' | 'insufficient_scope' | 'refused_by_pin' | 'refused_by_budget';

/** One call as the adapters observe it; `recordToolCall` turns it into the record sent. */
export interface ObservedToolCall {
  tool: string;
  /** The call's `arguments`: digested here, never kept nor sent. */
  arguments: unknown;
  /** The verified token's `clientId`, `extra.subject` and `extra.claims` (the MCP SDKs' AuthInfo shape). */
  auth: { clientId: string; extra?: Record<string, unknown> | undefined } | undefined;
  decision: ToolCallOutcome;
  startedAt: number;
  durationMs: number;
  /** Bytes of the JSON result; null when the call was refused before it ran. */
  resultBytes: number | null;
}

/** The wire record of `POST {issuer}/resource/tool-calls` (snake_case, like every Portcullis wire name). */
export interface ToolCallRecord {
  at: string;
  sub: string | null;
  client_id: string;
  /** A grant id when the token carries one (`grant_id` claim); Portcullis's tokens do not (README "Tool governance"). */
  grant_id: string | null;
  tool: string;
  arguments_digest: string;
  decision: ToolCallOutcome;
  duration_ms: number;
  result_bytes: number | null;
}

/** Where the recorder delivers, as whom, and its buffer's bounds. */
export interface ToolCallRecorderOptions {
  /** The authorization server's issuer; records go to `{issuer}/resource/tool-calls` unless `endpoint` is set. */
  issuer: string;
  endpoint?: string;
  /** This resource's own client (the introspection client: one credential per resource). */
  clientId: string;
  clientSecret: string;
  /** This server's resource URI, sent with each batch: Portcullis refuses a batch naming another resource than the credential's. */
  resource?: string;
  /** Records kept at most while undelivered (default 1000); beyond it new ones are dropped and counted. */
  maxBuffered?: number;
  /** Records per POST (default 100; Portcullis takes at most 150); a full batch is sent at once. */
  batchSize?: number;
  /** How often the buffer is sent, in ms (default 5000). */
  flushIntervalMs?: number;
  httpTimeoutMs?: number;
  /** Sends the batches with this instead of node:http(s) (a proxy-aware fetch, a test's stand-in). */
  fetch?: typeof fetch;
  /** A delivery that failed (Portcullis down, a refused batch). Default console.warn. */
  onError?: (message: string) => void;
}

/** The bounded buffer between the tool calls and the authorization server. */
export interface ToolCallRecorder {
  /** Buffers one call; returns at once (delivery runs later, on a timer). */
  record(call: ObservedToolCall): void;
  /** Sends what is buffered now, batch after batch; resolves when done or when a delivery failed. */
  flush(): Promise<void>;
  /** Stops the timer and makes a last delivery attempt. */
  close(): Promise<void>;
  /** Records waiting for delivery. */
  readonly buffered: number;
  /** Records dropped since the last delivery that reported them. */
  readonly dropped: number;
}

const digestOf = (canonical: string) => `sha256:${hash('sha256', canonical, 'base64url')}`;
// Calls without arguments (list_* tools, most of them) share one digest: hashing it again on every call cost more
// than the rest of the record in the kit bench's profile.
const NO_ARGUMENTS = canonicalJson({});
const NO_ARGUMENTS_DIGEST = digestOf(NO_ARGUMENTS);

/** `sha256:` and the base64url SHA-256 of the arguments' canonical JSON: equal arguments, equal digest. */
export function argumentsDigest(args: unknown): string {
  const canonical = canonicalJson(args ?? {});
  return canonical === NO_ARGUMENTS ? NO_ARGUMENTS_DIGEST : digestOf(canonical);
}

/** The bytes of `value` as JSON (UTF-8): what the result weighs on the wire (counted, not encoded: half the CPU). */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null) ?? 'null', 'utf8');

/** The `tools/call`s of a JSON-RPC message or batch: each tool's name and arguments. */
export function toolCallsIn(body: unknown): { tool: string; arguments: unknown }[] {
  return (Array.isArray(body) ? body : [body]).flatMap((message) => {
    const { method, params } = (typeof message === 'object' && message !== null ? message : {}) as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
    return method === 'tools/call' && typeof params?.name === 'string' ? [{ tool: params.name, arguments: params.arguments }] : [];
  });
}

/** Records every call in `body` as refused before it ran (the gates: insufficient_scope, refused_by_pin). */
export function recordRefusedCalls(recorder: ToolCallRecorder, auth: ObservedToolCall['auth'], body: unknown, decision: ToolCallOutcome, only?: readonly string[]): void {
  const startedAt = Date.now();
  for (const call of toolCallsIn(body)) {
    if (only && !only.includes(call.tool)) continue;
    recorder.record({ ...call, auth, decision, startedAt, durationMs: 0, resultBytes: null });
  }
}

/** Records the calls the pin gate refused: `refused_by_budget` for a budget (over it, or unchecked), `refused_by_pin` otherwise. */
export function recordPinRefusals(recorder: ToolCallRecorder, auth: ObservedToolCall['auth'], body: unknown, refused: readonly ToolCallDecision[]): void {
  const byBudget = (d: ToolCallDecision) => d.overBudget !== undefined || d.budgetUnavailable === true;
  const overBudget = refused.filter(byBudget).map((d) => d.tool);
  const unpinned = refused.filter((d) => !byBudget(d)).map((d) => d.tool);
  if (unpinned.length) recordRefusedCalls(recorder, auth, body, 'refused_by_pin', unpinned);
  if (overBudget.length) recordRefusedCalls(recorder, auth, body, 'refused_by_budget', overBudget);
}

/** The wire record of one observed call: the subject and any `grant_id` read from the token, the arguments digested. */
export function toolCallRecord(call: ObservedToolCall): ToolCallRecord {
  const { subject, grantId } = toolCallerOf(call.auth);
  return {
    at: new Date(call.startedAt).toISOString(), sub: subject ?? null, client_id: call.auth?.clientId ?? '',
    grant_id: grantId ?? null,
    tool: call.tool, arguments_digest: argumentsDigest(call.arguments), decision: call.decision,
    duration_ms: Math.max(0, Math.round(call.durationMs)), result_bytes: call.resultBytes,
  };
}

/** The batch's POST: node:http(s) (post-json.ts, the cheaper under load), or the `fetch` the caller gave. */
function deliveryPost(endpoint: string, fetchGiven: typeof fetch | undefined): (request: PostJsonOptions) => Promise<number> {
  if (!fetchGiven) {
    const url = new URL(endpoint);
    return (request) => postJson(url, request);
  }
  return async ({ headers, body, timeoutMs }) => {
    const response = await fetchGiven(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status;
  };
}

/**
 * A recorder that delivers to `POST {issuer}/resource/tool-calls` every `flushIntervalMs` and whenever a batch is
 * full, never on a call's path. Portcullis down: records stay buffered (at most `maxBuffered`, then dropped and
 * counted) and go with the next delivery that succeeds, with the count. Pass it to `recordedTool` and the gates.
 */
export function createToolCallRecorder(options: ToolCallRecorderOptions): ToolCallRecorder {
  const endpoint = options.endpoint ?? `${options.issuer.replace(/\/+$/, '')}/resource/tool-calls`;
  const maxBuffered = options.maxBuffered ?? 1000;
  const batchSize = Math.min(options.batchSize ?? 100, 150);
  const post = deliveryPost(endpoint, options.fetch);
  const onError = options.onError ?? ((message) => console.warn(message));
  const authorization = `Basic ${btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`)}`;
  let buffer: ToolCallRecord[] = [];
  let dropped = 0;
  let inFlight: Promise<void> | undefined;
  let soon: ReturnType<typeof setTimeout> | undefined;

  /** One POST of up to batchSize records with the dropped count; false when it should be retried later. */
  async function deliverOne(): Promise<boolean> {
    const batch = buffer.slice(0, batchSize);
    const reported = dropped;
    let status: number;
    try {
      status = await post({
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization },
        body: JSON.stringify({ ...(options.resource ? { resource: options.resource } : {}), records: batch, dropped: reported }),
        timeoutMs: options.httpTimeoutMs ?? 5000,
      });
    } catch (error) {
      onError(`portcullis: tool-call records not delivered (${(error as Error).message}); ${buffer.length} kept for retry`);
      return false;
    }
    // Down or overloaded: keep everything for the next attempt (the buffer stays bounded by record()).
    if (status >= 500 || status === 429 || status === 408) {
      onError(`portcullis: tool-call records not delivered (HTTP ${status}); ${buffer.length} kept for retry`);
      return false;
    }
    buffer = buffer.slice(batch.length);
    removed += batch.length;
    dropped -= reported;
    wantDrops = false;
    // A refused batch (bad credential, bad records) would be refused again: discarded, and counted as dropped.
    if (status !== 200) {
      dropped += batch.length;
      onError(`portcullis: the authorization server refused ${batch.length} tool-call records (HTTP ${status}); dropped`);
      return false;
    }
    return true;
  }

  // Under load, sending whatever is buffered as soon as the last POST returned meant a POST of a few records
  // every round trip: most of the recorder's CPU (the bench: 0.85x of recording off). So a full batch goes at
  // once, and a part batch only for a flush (the interval's, a caller's, close's), which sends what was buffered
  // when it was called, never chasing the records that keep arriving under load.
  let pushed = 0;      // records ever buffered
  let removed = 0;     // of them, delivered or refused
  let wantedUpTo = 0;  // flushes want every record up to this count delivered
  let wantDrops = false;
  let failed = false;

  async function drain(): Promise<void> {
    failed = false;
    for (;;) {
      const ready = buffer.length >= batchSize || removed < wantedUpTo || (wantDrops && dropped > 0);
      if (!ready) return;
      if (!await deliverOne()) {
        failed = true;
        return;
      }
    }
  }

  function run(): Promise<void> {
    // Cleared by a `.finally` on the stored promise, never inside drain: with nothing to send, drain
    // finishes before its promise could be stored, and a `finally` inside it would run first and leave a
    // settled promise behind as "in flight", so no later run would ever send again.
    inFlight ??= drain().finally(() => { inFlight = undefined; });
    return inFlight;
  }

  async function flush(): Promise<void> {
    const goal = pushed;
    wantedUpTo = Math.max(wantedUpTo, goal);
    if (dropped > 0) wantDrops = true;
    // A drain already running may be past its last check: run again until the goal is met or a delivery
    // failed (Portcullis down: the records stay for the next flush). Each fresh drain sends or fails.
    do await run(); while (!failed && (removed < goal || (wantDrops && dropped > 0)));
  }

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 5000);
  timer.unref?.();

  return {
    get buffered() { return buffer.length; },
    get dropped() { return dropped; },
    record(call) {
      if (buffer.length >= maxBuffered) {
        dropped += 1;
        return;
      }
      buffer.push(toolCallRecord(call));
      pushed += 1;
      // A full batch goes out on the next turn of the event loop, after the call's own answer.
      if (buffer.length >= batchSize && !soon) {
        soon = setTimeout(() => { soon = undefined; void run(); }, 0);
        soon.unref?.();
      }
    },
    flush,
    async close() {
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      await flush();
    },
  };
}
