// The recorder's POST on node:http (post-json.ts) against a real HTTP server on loopback: what it sends, that it
// keeps the connection, that a kept-alive connection the server dropped is retried once (and a fresh one is
// not), the timeout, and the recorder using it when no fetch is given.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postJson } from '../../packages/resource-server/src/post-json.ts';
import { createToolCallRecorder } from '../../packages/resource-server/src/index.ts';

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string; socket: Socket };
let server: Server | undefined;

/** A server that answers each request with `answer` (undefined: drops the connection unanswered). */
async function serve(answer: (seen: Seen, index: number) => number | 'drop' | 'hang') {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), socket: req.socket };
      seen.push(entry);
      const what = answer(entry, seen.length - 1);
      if (what === 'drop') req.socket.destroy();
      else if (what !== 'hang') res.writeHead(what, { 'content-type': 'application/json' }).end('{"stored":1}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/resource/tool-calls`);
  return { url, seen };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const request = { headers: { 'content-type': 'application/json', authorization: 'Basic cnM6czNjcmV0' }, body: '{"records":["ü"]}', timeoutMs: 2000 };

describe('postJson (the tool-call recorder\'s delivery)', () => {
  it('POSTs the body with its headers and byte length, and resolves with the status, whatever it is', async () => {
    const { url, seen } = await serve((_, i) => (i === 0 ? 200 : 503));
    expect(await postJson(url, request)).toBe(200);
    expect(await postJson(url, request)).toBe(503);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/resource/tool-calls', body: '{"records":["ü"]}' });
    expect(seen[0]!.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Basic cnM6czNjcmV0', 'content-length': String(Buffer.byteLength(request.body)) });
  });

  it('keeps the connection for the next batch', async () => {
    const { url, seen } = await serve(() => 200);
    for (let i = 0; i < 3; i++) expect(await postJson(url, request)).toBe(200);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
  });

  it('retries once on a new connection when the kept-alive one was dropped as it was reused', async () => {
    // The second request arrives on the first one's connection, which the server then drops unanswered, as a
    // server closing an idle connection would: the batch goes again on a fresh connection and is taken.
    const { url, seen } = await serve((_, i) => (i === 1 ? 'drop' : 200));
    expect(await postJson(url, request)).toBe(200);
    expect(await postJson(url, request)).toBe(200);
    expect(seen).toHaveLength(3);
    expect(seen[1]!.socket).toBe(seen[0]!.socket);
    expect(seen[2]!.socket).not.toBe(seen[1]!.socket);
  });

  it('does not retry a new connection that was dropped: the error reaches the recorder', async () => {
    const { url, seen } = await serve(() => 'drop');
    await expect(postJson(url, request)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toHaveLength(1);
  });

  it('gives up after the timeout when the server never answers', async () => {
    const { url } = await serve(() => 'hang');
    const started = Date.now();
    await expect(postJson(url, { ...request, timeoutMs: 200 })).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses a URL that is not http: or https:', async () => {
    await expect(postJson(new URL('file:///etc/passwd'), request)).rejects.toThrow('cannot POST to a file: URL');
  });

  it('is what the recorder sends its batches with when no fetch is given', async () => {
    const { url, seen } = await serve(() => 200);
    const errors: string[] = [];
    const recorder = createToolCallRecorder({ issuer: url.origin, clientId: 'rs', clientSecret: 's3cret', resource: 'https://mcp.example/mcp', flushIntervalMs: 3_600_000, onError: (m) => errors.push(m) });
    recorder.record({ tool: 'list_notes', arguments: {}, auth: { clientId: 'agent' }, decision: 'allowed', startedAt: Date.UTC(2026, 11, 8), durationMs: 3, resultBytes: 12 });
    await recorder.close();
    expect(errors).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.authorization).toBe(`Basic ${btoa('rs:s3cret')}`);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ resource: 'https://mcp.example/mcp', dropped: 0, records: [{ tool: 'list_notes', client_id: 'agent', at: '2026-12-08T00:00:00.000Z' }] });
    expect(recorder.buffered).toBe(0);
  });
});
