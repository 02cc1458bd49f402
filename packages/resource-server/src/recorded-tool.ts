// Recording the tool calls that ran (issue 14 §6), for both MCP SDKs: one wrapper around a tool handler that
// times the call, weighs its JSON result, applies the operator's result-size cap (§7) and records the outcome.
import type { ToolPins } from './tool-pins.ts';
import { jsonBytes, type ObservedToolCall, type ToolCallRecorder } from './tool-calls.ts';

/** Where each SDK hands a tool handler the verified token: v2 `ctx.http.authInfo`, v1 `extra.authInfo`. */
type HandlerContext = { http?: { authInfo?: ObservedToolCall['auth'] }; authInfo?: ObservedToolCall['auth'] } | undefined;

/** The token of a handler's last parameter, in either SDK's shape (both take the one the kit's gates verified). */
const authOf = (ctx: HandlerContext): ObservedToolCall['auth'] => ctx?.http?.authInfo ?? ctx?.authInfo;

/**
 * Wraps a tool's handler so each call that runs is recorded as `allowed` with its duration and the bytes of its
 * JSON result (tool-calls.ts), buffered, never sent on the call's path. It fits both MCP SDKs' handlers:
 *
 *   server.registerTool(name, config, recordedTool(recorder, name, handler));  // v2 `@modelcontextprotocol/server`
 *   server.registerTool(name, config, recordedTool(recorder, name, handler));  // v1 `@modelcontextprotocol/sdk`, also server.tool(...)
 *
 * Both pass `(args, ctx)` with an input schema and `(ctx)` without; the token is read from v2's `ctx.http.authInfo`
 * or v1's `extra.authInfo` (set from `req.auth` by the kit's gates). Refusals are recorded by the gates (their
 * `toolCalls` options). With `pins`, a result larger than the operator's cap (`max_result_bytes`) is not returned:
 * the call answers a tool error (`isError`) instead, recorded as `refused_by_budget` with the size it had.
 */
export function recordedTool<A extends unknown[], R>(recorder: ToolCallRecorder, tool: string, handler: (...params: A) => R | Promise<R>, options: { pins?: ToolPins } = {}): (...params: A) => Promise<R> {
  return async (...params) => {
    const ctx = params.at(-1) as HandlerContext;
    const args = params.length > 1 ? params[0] : undefined;
    const startedAt = Date.now();
    const started = performance.now();
    let decision: 'allowed' | 'refused_by_budget' = 'allowed';
    let bytes: number | null = null;
    try {
      const result = await handler(...params);
      bytes = jsonBytes(result);
      const cap = options.pins?.maxResultBytes();
      if (cap !== undefined && bytes > cap) {
        decision = 'refused_by_budget';
        return { isError: true, content: [{ type: 'text', text: `the result of ${tool} (${bytes} bytes) is larger than the ${cap} bytes this server may return` }] } as R;
      }
      return result;
    } finally {
      recorder.record({ tool, arguments: args, auth: authOf(ctx), decision, startedAt, durationMs: performance.now() - started, resultBytes: bytes });
    }
  };
}
