// Reads a web-standard Request's body once, bounded, for the MCP SDK v2 front (mcp-sdk-v2.ts): a body over the
// bound is refused as it streams in, never buffered whole first (a clone's `json()` would buffer any size).
import { BODY_TOO_LARGE, MAX_BODY_BYTES } from './read-json-body.ts';

export type RequestBodyText = { text: string } | 'too large';

/** The body as UTF-8 text ('' when there is none), or 'too large' past `limit` bytes (declared or streamed). */
export async function readRequestText(request: Request, limit = MAX_BODY_BYTES): Promise<RequestBodyText> {
  const declared = Number(request.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > limit) return 'too large';
  if (!request.body) return { text: '' };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Not awaited: a clone's branch settles its cancel only once the other branch is cancelled too.
      reader.cancel().catch(() => {});
      return 'too large';
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

/** The body read as above and parsed: `json` undefined when it is empty or not JSON (`text` keeps what came). */
export async function readRequestJson(request: Request, limit?: number): Promise<{ text: string; json: unknown } | 'too large'> {
  const read = await readRequestText(request, limit);
  if (read === 'too large') return read;
  try {
    return { text: read.text, json: read.text.length > 0 ? JSON.parse(read.text) : undefined };
  } catch {
    return { text: read.text, json: undefined };
  }
}

/** The 413 answer to a body over the bound (the kit's JSON-RPC `request body too large`). */
export const bodyTooLargeResponse = () => new Response(BODY_TOO_LARGE, { status: 413, headers: { 'content-type': 'application/json' } });
