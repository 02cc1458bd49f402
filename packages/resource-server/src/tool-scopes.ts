// Per-tool scopes: which scopes each MCP tool needs, checked on every `tools/call` (JSON-RPC request or
// batch) before the tool runs, so a token with only the baseline scopes gets a step-up challenge.
import { ResourceServerError } from './errors.ts';
import { missingScopes, stepUpScopes } from './scopes.ts';
import { createSingleUseScopes, type SingleUseTokenInfo } from './single-use-scopes.ts';

/** Per-tool scopes for MCP `tools/call`: which scopes a tool needs, and the check of a parsed JSON-RPC body. */
export interface ToolScopes {
  /** The scopes `tool` needs: its entry, or `defaultScopes` for tools not listed. */
  requiredFor(tool: string): string[];
  /**
   * Throws insufficient_scope when a `tools/call` in `message` (one JSON-RPC message or a batch) needs a
   * scope the token lacks. The challenge covers every call of a batch at once. Other methods pass.
   * With `singleUseScopes`, a call that passes and needs one spends the token for such calls.
   */
  check(info: SingleUseTokenInfo, message: unknown): void;
}

/** Options of `createToolScopes`: scopes of unlisted tools, and scopes good for one call per token. */
export interface ToolScopesOptions {
  /** Scopes for tools not in the map (default: none beyond what the route requires). */
  defaultScopes?: string[];
  /**
   * Scopes good for one tool call per token (Portcullis's `irreversible` risk class): a second call
   * needing one with the same token is refused with 403 insufficient_scope (single-use-scopes.ts).
   */
  singleUseScopes?: readonly string[];
}

/** The tool names called in a JSON-RPC message or batch; malformed entries are the transport's to refuse. */
export function calledTools(message: unknown): string[] {
  const requests = Array.isArray(message) ? message : [message];
  return requests.flatMap((request) => {
    if (typeof request !== 'object' || request === null) return [];
    const { method, params } = request as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) return [];
    const name = (params as { name?: unknown }).name;
    return typeof name === 'string' ? [name] : [];
  });
}

/**
 * The per-tool scope table the adapters check on every `tools/call` (each call of a batch too). A tool
 * not in `map` needs `defaultScopes`; `singleUseScopes` (irreversible ones, say) are spent by the first
 * call that needs them, so the same token cannot make a second such call.
 *
 * @example
 * createToolScopes({ add_note: ['notes:write'], delete_note: ['notes:delete'] }, { singleUseScopes: ['notes:delete'] })
 */
export function createToolScopes(map: Record<string, readonly string[]>, options: ToolScopesOptions = {}): ToolScopes {
  const table = new Map(Object.entries(map).map(([tool, scopes]) => [tool, [...scopes]]));
  const defaults = options.defaultScopes ?? [];
  const requiredFor = (tool: string) => [...(table.get(tool) ?? defaults)];
  const singleUse = options.singleUseScopes?.length ? createSingleUseScopes(options.singleUseScopes) : undefined;
  return {
    requiredFor,
    check(info, message) {
      const callsRequired = calledTools(message).map(requiredFor);
      const required = [...new Set(callsRequired.flat())];
      const missing = missingScopes(info.scopes, required);
      // The tool name came from the caller: it is not echoed into the challenge, the scope names are ours.
      if (missing.length > 0) {
        throw new ResourceServerError('insufficient_scope', `this tool call needs the scope ${missing.join(' ')}`, {
          scopes: stepUpScopes(info.scopes, required),
        });
      }
      singleUse?.spend(info, callsRequired);
    },
  };
}
