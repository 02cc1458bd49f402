// The kit and an MCP SDK v2 handler (`createMcpHandler`) as one `fetch`: the JSON body is read once, bounded, and
// the SDK is handed it parsed (its `parsedBody` option) with the verified token. The separate gates each read a
// clone of the request and the SDK reads another: in the recording bench (issue 17) those copies were most of
// what the kit cost a tools/call.
import type { AuthInfo } from '@modelcontextprotocol/server';
import { bodyTooLargeResponse, readRequestJson } from './read-request-json.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import type { ToolPins } from './tool-pins.ts';
import { pinRefusalOf } from './tool-call-gates.ts';

/** What `createMcpHandler` returns, as far as this needs it. */
export interface McpFetchHandler {
  fetch(request: Request, options?: { authInfo?: AuthInfo; parsedBody?: unknown }): Promise<Response>;
}

/** `protectMcpHandler`'s options: the gate's (`requiredScopes`, `toolScopes`, `toolCalls`), the pins and the body bound. */
export interface ProtectedMcpHandlerOptions extends ProtectOptions {
  /** The pin gate (tool-pins.ts): calls the approved catalog does not cover are refused before the SDK sees them. */
  pins?: ToolPins;
  /** The largest body read, in bytes (default the SDK's own 4 MiB); a larger one is answered 413. */
  maxBodyBytes?: number;
}

/** The kit's challenge for an `authenticate` failure, as a web Response (shared with `mcpServerAuthGate`). */
export function challengeResponse(server: ResourceServer, error: unknown, options: ProtectOptions): Response {
  const answer = server.challenge(error, options);
  return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status, headers: answer.headers });
}

/**
 * `mcpServerAuthGate`, the per-tool scopes, the pin gate (with `pins`) and the SDK handler in one:
 *
 *   const mcp = createMcpHandler(factory);
 *   const serve = protectMcpHandler(rs, mcp, { toolScopes, pins, toolCalls: recorder });
 *   // Node: toNodeHandler({ fetch: serve }); Workers, Deno, Bun: export default { fetch: serve }
 *
 * The same refusals and records as the separate gates: a token refused gets the kit's challenge (Bearer or DPoP),
 * a call short of its tool's scope 403 insufficient_scope, a call the pins refuse its JSON-RPC error. A body over
 * `maxBodyBytes` is answered 413 as it streams in; a body that is not JSON goes to the SDK as it came, after the
 * token checked out, for the SDK's own answer.
 */
export function protectMcpHandler(server: ResourceServer, handler: McpFetchHandler, options: ProtectedMcpHandlerOptions = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    let text: string | undefined;
    let parsedBody: unknown;
    if (request.method === 'POST') {
      const read = await readRequestJson(request, options.maxBodyBytes);
      if (read === 'too large') return bodyTooLargeResponse();
      ({ text, json: parsedBody } = read);
    }
    const url = new URL(request.url);
    let auth: AuthInfo;
    try {
      auth = await server.authenticate({
        authorization: request.headers.get('authorization') ?? undefined, dpop: request.headers.get('dpop') ?? undefined,
        method: request.method, url: `${url.pathname}${url.search}`, body: parsedBody,
      }, options);
    } catch (error) {
      return challengeResponse(server, error, options);
    }
    if (options.pins && request.method === 'POST') {
      const refusal = await pinRefusalOf(options.pins, parsedBody, auth, options.toolCalls);
      if (refusal !== undefined) return Response.json(refusal);
    }
    if (parsedBody !== undefined) return handler.fetch(request, { authInfo: auth, parsedBody });
    // No JSON read (not a POST, an empty body, not JSON): the SDK reads the request itself; a POST's text was
    // consumed here, so it gets a copy carrying it.
    const forward = text === undefined ? request : new Request(request.url, { method: request.method, headers: request.headers, body: text });
    return handler.fetch(forward, { authInfo: auth });
  };
}
