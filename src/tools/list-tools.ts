// Portcullis's own MCP client for the inventory (issue 14 §1): the real MCP SDK client calls a resource's
// tools/list with the inventory token, over a fetch that reaches public addresses only (address-policy.ts; loopback
// only with CIMD_ALLOW_LOOPBACK), with one deadline for the whole listing and a size cap on every response.
import { isIP } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Agent, fetch as undiciFetch } from 'undici';
import { isFetchableAddress, publicAddressLookup } from '../outbound/address-policy.ts';

export interface ListToolsOptions {
  /** CIMD_ALLOW_LOOPBACK: development servers on 127.0.0.1 / ::1 may be listed. Nothing else private ever may. */
  allowLoopback: boolean;
  /** The whole listing: connect, initialize and every tools/list page. */
  timeoutMs: number;
  /** Per HTTP response body. */
  maxBytes: number;
}

/** Why no tool list came back, in words the CLI and the console show as they are. */
export class ToolListingError extends Error {
  override name = 'ToolListingError';
}

/** A fetch over an undici Agent whose every connection goes through the address policy, its bodies capped. */
function policedFetch(options: ListToolsOptions, deadline: AbortSignal, dispatcher: Agent): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    // A literal IP skips the lookup: judged here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !isFetchableAddress(host, options.allowLoopback)) throw new ToolListingError('its host is not a public internet address');
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const response = await undiciFetch(url, { ...(init as object), signal, dispatcher, redirect: 'manual' } as Parameters<typeof undiciFetch>[1]);
    if (Number(response.headers.get('content-length') ?? 0) > options.maxBytes) throw new ToolListingError(`an answer is larger than ${options.maxBytes} bytes`);
    let received = 0;
    const capped = (response.body as ReadableStream<Uint8Array> | null)?.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > options.maxBytes) controller.error(new ToolListingError(`an answer is larger than ${options.maxBytes} bytes`));
        else controller.enqueue(chunk);
      },
    }));
    return new Response(capped as ReadableStream | undefined ?? null, { status: response.status, statusText: response.statusText, headers: response.headers as unknown as Headers });
  };
}

const MAX_PAGES = 20;

/** Every tool `tools/list` returns (all pages), as the server sent them; throws ToolListingError. */
export async function listServerTools(url: string, token: string, options: ListToolsOptions): Promise<unknown[]> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  // Its own pool, closed after: no connection chosen by an earlier resolution is reused.
  const dispatcher = new Agent({ connect: { lookup: publicAddressLookup(options.allowLoopback) }, connections: 4 });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: policedFetch(options, deadline, dispatcher), requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'portcullis-tool-inventory', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const answer = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...answer.tools);
      cursor = answer.nextCursor;
      if (!cursor) return tools;
    }
    throw new ToolListingError(`tools/list returned more than ${MAX_PAGES} pages`);
  } catch (error) {
    if (error instanceof ToolListingError) throw error;
    if (deadline.aborted) throw new ToolListingError(`no complete answer within ${options.timeoutMs} ms`);
    const cause = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
    throw new ToolListingError(`tools/list failed: ${cause.slice(0, 300)}`);
  } finally {
    await client.close().catch(() => undefined);
    await dispatcher.close().catch(() => undefined);
  }
}
