// Portcullis's own MCP client for the inventory (issue 14 §1): the real MCP SDK client calls a resource's
// tools/list with the inventory token, over a fetch that reaches public addresses only (address-policy.ts; loopback
// only with CIMD_ALLOW_LOOPBACK), with one deadline for the whole listing and a size cap on every response.
import { isIP } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Agent, fetch as undiciFetch } from 'undici';
import { FORBIDDEN_ADDRESS_CODE, isFetchableAddress, publicAddressLookup } from '../outbound/address-policy.ts';

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
function policedFetch(options: ListToolsOptions, deadline: AbortSignal, dispatcher: Agent, overflow: AbortController): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    // A literal IP skips the lookup: judged here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !isFetchableAddress(host, options.allowLoopback)) {
      throw new ToolListingError(`its host is not a public internet address${options.allowLoopback ? '' : ' (CIMD_ALLOW_LOOPBACK=true allows loopback in development)'}`);
    }
    const signal = AbortSignal.any([...(init?.signal ? [init.signal] : []), deadline, overflow.signal]);
    const response = await undiciFetch(url, { ...(init as object), signal, dispatcher, redirect: 'manual' } as Parameters<typeof undiciFetch>[1]);
    if (Number(response.headers.get('content-length') ?? 0) > options.maxBytes) {
      overflow.abort();
      throw new ToolListingError(`an answer is larger than ${options.maxBytes} bytes`);
    }
    let received = 0;
    const capped = (response.body as ReadableStream<Uint8Array> | null)?.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received <= options.maxBytes) return controller.enqueue(chunk);
        // The SDK may swallow a stream's error: the listing itself is ended too (see listServerTools).
        overflow.abort();
        controller.error(new ToolListingError(`an answer is larger than ${options.maxBytes} bytes`));
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
  const overflow = new AbortController();
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: policedFetch(options, deadline, dispatcher, overflow), requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'portcullis-tool-inventory', version: '1.0.0' });
  const listing = async () => {
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
  };
  // Whatever the SDK waits for, the listing ends at the deadline or at the first answer over the cap.
  const ended = AbortSignal.any([deadline, overflow.signal]);
  const stopped = new Promise<never>((_, reject) => ended.addEventListener('abort', () => reject(new ToolListingError('stopped')), { once: true }));
  stopped.catch(() => undefined);
  try {
    return await Promise.race([listing(), stopped]);
  } catch (error) {
    if (overflow.signal.aborted) throw new ToolListingError(`an answer is larger than ${options.maxBytes} bytes`);
    if (error instanceof ToolListingError && !deadline.aborted) throw error;
    if (deadline.aborted) throw new ToolListingError(`no complete answer within ${options.timeoutMs} ms`);
    const cause = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
    // A development server on localhost is the common case of a refused address: say how to allow it.
    const refusedAddress = error instanceof Error && (error.cause as { code?: unknown } | undefined)?.code === FORBIDDEN_ADDRESS_CODE;
    const hint = refusedAddress && !options.allowLoopback ? ' (private and loopback addresses are refused; CIMD_ALLOW_LOOPBACK=true allows loopback in development)' : '';
    throw new ToolListingError(`tools/list failed: ${cause.slice(0, 300)}${hint}`);
  } finally {
    await client.close().catch(() => undefined);
    await dispatcher.destroy().catch(() => undefined);
  }
}
