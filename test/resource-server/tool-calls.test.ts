// The kit's tool-call recorder on its own (issue 14 §6): the authorization server's answers are the only thing
// played (outbound HTTP). No delay (the call returns before any delivery), the bound, the drop count, retries.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { argumentsDigest, createToolCallRecorder, recordRefusedCalls, type ObservedToolCall } from '@portcullis/resource-server';
import { recordedTool } from '@portcullis/resource-server/mcp-sdk-v2';

type Sent = { records: Record<string, unknown>[]; dropped: number; resource?: string };

function authorizationServer(answer: () => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const headers: string[] = [];
  const fetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    headers.push(new Headers(init?.headers).get('authorization') ?? '');
    const response = await answer();
    if (response.status === 200) sent.push(JSON.parse(String(init?.body)) as Sent);
    return response;
  }) as typeof globalThis.fetch;
  return { sent, headers, fetch };
}
const ok = () => Response.json({ stored: 1 });
const auth = { clientId: 'agent', extra: { subject: 'person-1', claims: { sub: 'person-1', client_id: 'agent' } } };
const call = (tool: string): ObservedToolCall => ({ tool, arguments: { secret: 'do-not-send' }, auth, decision: 'allowed', startedAt: Date.now(), durationMs: 1, resultBytes: 2 });
const recorderWith = (fetch: typeof globalThis.fetch, more: Partial<Parameters<typeof createToolCallRecorder>[0]> = {}) =>
  createToolCallRecorder({ issuer: 'https://as.example', clientId: 'rs', clientSecret: 's3cret', resource: 'https://mcp.example/mcp', fetch, flushIntervalMs: 3_600_000, onError: () => {}, ...more });

describe('tool-call recorder', () => {
  it('a recorded tool answers before anything is delivered; the record names the call, never its arguments', async () => {
    const as = authorizationServer(ok);
    const recorder = recorderWith(as.fetch, { batchSize: 1 });
    const handler = recordedTool(recorder, 'add_note', async (args: { text: string }, _ctx: unknown) => ({ content: [{ type: 'text', text: `added ${args.text.length}` }] }));
    const result = await handler({ text: 'my diary entry' }, { http: { authInfo: auth } } as never);
    // The call has returned: a full batch is sent on a later turn of the event loop, not on the call's path.
    expect(result.content[0]!.text).toBe('added 14');
    expect(as.sent).toEqual([]);
    expect(recorder.buffered).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    await recorder.flush();
    expect(as.headers[0]).toBe(`Basic ${btoa('rs:s3cret')}`);
    expect(as.sent).toHaveLength(1);
    const [record] = as.sent[0]!.records;
    expect(record).toMatchObject({
      sub: 'person-1', client_id: 'agent', grant_id: null, tool: 'add_note', decision: 'allowed',
      arguments_digest: argumentsDigest({ text: 'my diary entry' }), result_bytes: JSON.stringify(result).length,
    });
    expect(as.sent[0]!.resource).toBe('https://mcp.example/mcp');
    expect(JSON.stringify(as.sent)).not.toContain('my diary entry');
    await recorder.close();
  });

  // Found by the bench: a flush with nothing to send (the interval's, while the server is idle) used to leave
  // a settled promise behind as "in flight", and nothing was ever delivered again.
  it('keeps delivering after a flush that had nothing to send, by timer and by full batch', async () => {
    const as = authorizationServer(ok);
    const recorder = recorderWith(as.fetch, { batchSize: 2, flushIntervalMs: 20 });
    await recorder.flush();
    await new Promise((resolve) => setTimeout(resolve, 60)); // idle intervals, each flushing an empty buffer
    recorder.record(call('list_notes'));
    await new Promise((resolve) => setTimeout(resolve, 60)); // the interval sends it
    expect(as.sent.flatMap((batch) => batch.records)).toHaveLength(1);
    recorder.record(call('list_notes'));
    recorder.record(call('add_note'));
    await new Promise((resolve) => setTimeout(resolve, 0)); // the full batch goes out on the next turn
    await recorder.flush();
    expect(as.sent.flatMap((batch) => batch.records.map((r) => r.tool))).toEqual(['list_notes', 'list_notes', 'add_note']);
    expect(recorder.buffered).toBe(0);
    await recorder.close();
  });

  it('the digest is of canonical JSON: key order does not matter, values do', () => {
    expect(argumentsDigest({ a: 1, b: 2 })).toBe(argumentsDigest({ b: 2, a: 1 }));
    expect(argumentsDigest({ a: 1 })).not.toBe(argumentsDigest({ a: 2 }));
    expect(argumentsDigest({ a: 1 })).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
  });

  it('calls without arguments share the digest of {} (kept once, not hashed per call), the same as hashing it', () => {
    const ofEmptyObject = `sha256:${createHash('sha256').update('{}').digest('base64url')}`;
    for (const none of [undefined, null, {}, { absent: undefined }]) expect(argumentsDigest(none)).toBe(ofEmptyObject);
    expect(argumentsDigest([])).not.toBe(ofEmptyObject);
    expect(argumentsDigest({ a: null })).not.toBe(ofEmptyObject);
  });

  it('keeps at most maxBuffered records, counts the rest, retries while the server is down, then reports the drops', async () => {
    let up = false;
    const as = authorizationServer(() => {
      if (!up) throw new TypeError('fetch failed');
      return ok();
    });
    const recorder = recorderWith(as.fetch, { maxBuffered: 3 });
    for (const tool of ['a', 'b', 'c', 'd', 'e']) recorder.record(call(tool));
    expect([recorder.buffered, recorder.dropped]).toEqual([3, 2]);
    await recorder.flush();
    // Down: nothing lost of what was kept, nothing more taken.
    expect([recorder.buffered, recorder.dropped]).toEqual([3, 2]);
    recorder.record(call('f'));
    expect(recorder.dropped).toBe(3);
    up = true;
    await recorder.flush();
    expect(as.sent).toHaveLength(1);
    expect(as.sent[0]!.records.map((r) => r.tool)).toEqual(['a', 'b', 'c']);
    expect(as.sent[0]!.dropped).toBe(3);
    expect([recorder.buffered, recorder.dropped]).toEqual([0, 0]);
    await recorder.close();
  });

  it('a 503 keeps the batch for retry; a refused batch (401) is discarded and counted as dropped', async () => {
    let status = 503;
    const as = authorizationServer(() => (status === 200 ? ok() : Response.json({ error: 'x' }, { status })));
    const recorder = recorderWith(as.fetch);
    recorder.record(call('a'));
    await recorder.flush();
    expect([recorder.buffered, recorder.dropped]).toEqual([1, 0]);
    status = 401;
    await recorder.flush();
    expect([recorder.buffered, recorder.dropped]).toEqual([0, 1]);
    status = 200;
    await recorder.flush();
    expect(as.sent).toEqual([{ resource: 'https://mcp.example/mcp', records: [], dropped: 1 }]);
    await recorder.close();
  });

  it('sends in batches of batchSize', async () => {
    const as = authorizationServer(ok);
    const recorder = recorderWith(as.fetch, { batchSize: 2 });
    for (const tool of ['a', 'b', 'c']) recorder.record(call(tool));
    await recorder.flush();
    expect(as.sent.map((b) => b.records.length)).toEqual([2, 1]);
    await recorder.close();
  });

  it('under load sends full batches only; a part batch waits for a flush, which sends what was buffered when it was called', async () => {
    // Each POST takes a while, as over a network: records keep arriving while one is in flight.
    let release: () => void = () => {};
    const as = authorizationServer(() => new Promise<Response>((resolve) => { release = () => resolve(ok()); }));
    const recorder = recorderWith(as.fetch, { batchSize: 10 });
    for (let i = 0; i < 10; i += 1) recorder.record(call(`t${i}`));
    await new Promise((resolve) => setTimeout(resolve, 5)); // the full batch goes on the next turn
    for (let i = 10; i < 13; i += 1) recorder.record(call(`t${i}`)); // arrive during that POST
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Before the fix the drain sent the 3 at once, one small POST per round trip under load.
    expect(as.sent.map((b) => b.records.length)).toEqual([10]);
    expect(recorder.buffered).toBe(3);
    const flushed = recorder.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    recorder.record(call('late')); // arrives while the flush's POST is in flight: not chased by it
    release();
    await flushed;
    expect(as.sent.map((b) => b.records.length)).toEqual([10, 3]);
    expect(recorder.buffered).toBe(1);
    const closing = recorder.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    release();
    await closing;
    expect(as.sent.map((b) => b.records.map((r) => r.tool))).toEqual([[...Array.from({ length: 10 }, (_, i) => `t${i}`)], ['t10', 't11', 't12'], ['late']]);
  });

  it('gates record refused calls of a batch, only the ones refused, with no result', async () => {
    const as = authorizationServer(ok);
    const recorder = recorderWith(as.fetch);
    const body = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write', arguments: { x: 1 } } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'read' } },
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
    ];
    recordRefusedCalls(recorder, auth, body, 'refused_by_pin', ['write']);
    await recorder.flush();
    expect(as.sent[0]!.records).toEqual([expect.objectContaining({ tool: 'write', decision: 'refused_by_pin', result_bytes: null, duration_ms: 0, arguments_digest: argumentsDigest({ x: 1 }) })]);
    await recorder.close();
  });
});
