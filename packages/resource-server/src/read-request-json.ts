// Reads a web-standard Request's body once, bounded, for the MCP SDK v2 front (mcp-sdk-v2.ts): a body over the
// bound is refused as it streams in, never buffered whole first (a clone's `json()` would buffer any size).
import { MAX_BODY_BYTES } from './read-json-body.ts';

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
