// Reads a JSON request body, bounded, for the adapters when per-tool scopes need the JSON-RPC message
// and no body parser ran; the adapter then hands the parsed body on (as `req.body`), like express.json().
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The MCP SDK's own default request body bound (4 MiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: 400 | 413; body: string };

// JSON-RPC's own parse error, so an MCP client sees the answer its transport would have given.
const parseError = (message: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message } });

/** The answer (with HTTP 413) to a body over the bound, for every adapter. */
export const BODY_TOO_LARGE = parseError('request body too large');

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return { ok: false, status: 413, body: BODY_TOO_LARGE };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > limit) return { ok: false, status: 413, body: BODY_TOO_LARGE };
    chunks.push(buffer);
  }
  if (size === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch {
    return { ok: false, status: 400, body: parseError('Parse error') };
  }
}

/**
 * For the node-style adapters: leaves the JSON body on `req.body`, read here unless a body parser (or an earlier
 * gate) already did; on a body too large or not JSON, answers the JSON-RPC parse error on `res` and returns false.
 */
export async function ensureJsonBody(req: IncomingMessage & { body?: unknown }, res: ServerResponse): Promise<boolean> {
  if (req.body !== undefined) return true;
  const body = await readJsonBody(req);
  if (!body.ok) {
    res.writeHead(body.status, { 'Content-Type': 'application/json' });
    res.end(body.body);
    return false;
  }
  req.body = body.value;
  return true;
}
