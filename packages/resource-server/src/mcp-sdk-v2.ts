// Plugs the kit into the MCP TypeScript SDK v2 (`@modelcontextprotocol/server`): a token verifier for its
// bearer-auth helpers, a DPoP-capable gate in place of them, and per-tool `scopeChallenge` handlers.
import type { AuthInfo, OAuthError, OAuthTokenVerifier, ScopeChallengeHandler } from '@modelcontextprotocol/server';
import { ResourceServerError } from './errors.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import { missingScopes, stepUpScopes } from './scopes.ts';
import { calledTools, type ToolScopes } from './tool-scopes.ts';
import { toolCallerOf, toolPinRefusal, type ToolPins } from './tool-pins.ts';
import { jsonBytes, recordPinRefusals, type ToolCallRecorder } from './tool-calls.ts';

export { TOOL_BUDGET_ERROR_CODE, TOOL_REFUSED_ERROR_CODE } from './tool-pins.ts';

/** The SDK's error class, passed in so this kit loads nothing of the SDK at runtime. */
export interface McpServerSdkErrors {
  OAuthError: typeof OAuthError;
}

/**
 * `verifyAccessToken` for `requireBearerAuth` / `verifyBearerToken` from `@modelcontextprotocol/server`:
 *
 *   import { OAuthError, requireBearerAuth } from '@modelcontextprotocol/server';
 *   requireBearerAuth({ verifier: mcpServerTokenVerifier(rs, { OAuthError }), resourceMetadataUrl: rs.resourceMetadataUrl })
 *
 * The SDK answers only errors of its own class with a challenge (anything else is a 500), hence the class.
 * Those helpers read `Authorization: Bearer` only and pass the token alone, so a DPoP-bound token is
 * refused here (its proof needs the method and the URL): use `mcpServerAuthGate` to accept DPoP.
 */
export function mcpServerTokenVerifier(server: ResourceServer, sdk: McpServerSdkErrors): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return await server.verifyAccessToken(token);
      } catch (error) {
        if (error instanceof ResourceServerError && error.code !== 'temporarily_unavailable') {
          throw new sdk.OAuthError('invalid_token', error.message);
        }
        throw new sdk.OAuthError('server_error', 'the authorization server could not be reached');
      }
    },
  };
}

/**
 * In place of the SDK's `requireBearerAuth({ verifier })` web-standard gate (same contract: the verified
 * `AuthInfo`, or the `Response` to return): accepts `Authorization: Bearer` tokens and DPoP-bound ones
 * (`Authorization: DPoP` with a `DPoP` proof, checked against `request.method` and the request's path on the
 * resource's origin, never its Host; RFC 9449 §4.3). Refusals carry the kit's challenges, `WWW-Authenticate:
 * DPoP … algs=` for DPoP. The SDK's own gate reads `Bearer` only, so it cannot take a DPoP-bound token.
 *
 *   const gate = mcpServerAuthGate(rs);
 *   const auth = await gate(request);
 *   if (auth instanceof Response) return auth;
 *   return handler.fetch(request, { authInfo: auth });
 *
 * With `toolScopes`, the JSON-RPC body is read from a clone, so the request stays readable for the handler.
 */
export function mcpServerAuthGate(server: ResourceServer, options: ProtectOptions = {}): (request: Request) => Promise<AuthInfo | Response> {
  return async (request) => {
    const url = new URL(request.url);
    try {
      const body = options.toolScopes && request.method === 'POST' ? await request.clone().json().catch(() => undefined) : undefined;
      return await server.authenticate({
        authorization: request.headers.get('authorization') ?? undefined, dpop: request.headers.get('dpop') ?? undefined,
        method: request.method, url: `${url.pathname}${url.search}`, body,
      }, options);
    } catch (error) {
      const answer = server.challenge(error, options);
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status, headers: answer.headers });
    }
  };
}

/**
 * The `scopeChallenge` option for `registerTool(name, { scopeChallenge }, …)`: the SDK then answers a
 * `tools/call` the token lacks scopes for with 403 insufficient_scope, and the same step-up scope set
 * as the kit's own adapters (held scopes plus the missing ones; see scopes.ts for why).
 */
export function toolScopeChallenge(toolScopes: ToolScopes, tool: string): ScopeChallengeHandler {
  return ({ request, authInfo }) => {
    // Unauthenticated requests are the bearer gate's to refuse.
    if (authInfo === undefined || !calledTools(request).includes(tool)) return undefined;
    const required = toolScopes.requiredFor(tool);
    const missing = missingScopes(authInfo.scopes, required);
    if (missing.length === 0) return undefined;
    const [first, ...rest] = stepUpScopes(authInfo.scopes, required);
    return { scopes: [first!, ...rest], errorDescription: `this tool call needs the scope ${missing.join(' ')}` };
  };
}

/**
 * Refuses `tools/call`s the approved catalog does not cover (tool-pins.ts), before the SDK handler runs: a
 * changed or new write/irreversible tool under the `block` policy, and any call made with the authorization
 * server's inventory token. The answer is a JSON-RPC error per refused call, `data.reason` `tool_not_approved`:
 *
 *   const auth = await gate(request);
 *   if (auth instanceof Response) return auth;
 *   const refused = await pinGate(request, auth);
 *   if (refused) return refused;
 */
export function mcpServerToolPinGate(pins: ToolPins, options: { toolCalls?: ToolCallRecorder } = {}): (request: Request, auth: AuthInfo) => Promise<Response | undefined> {
  return async (request, auth) => {
    if (request.method !== 'POST') return undefined;
    const body: unknown = await request.clone().json().catch(() => undefined);
    const refusal = await toolPinRefusal(pins, body, auth.clientId, options.toolCalls && ((refused) => recordPinRefusals(options.toolCalls!, auth, body, refused)), toolCallerOf(auth));
    return refusal === undefined ? undefined : new Response(JSON.stringify(refusal), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

/**
 * Wraps a tool's handler for `registerTool(name, config, recordedTool(recorder, name, handler))`: each call
 * that runs is recorded as `allowed` with its duration and the bytes of its JSON result (tool-calls.ts). The
 * record is buffered, never sent on the call's path. Refusals are recorded by the gates (`toolCalls` options).
 * With `pins`, a result larger than the operator's cap (`max_result_bytes`, issue 14 §7) is not returned: the
 * call answers a tool error instead, recorded as `refused_by_budget` with the size it had.
 */
export function recordedTool<A extends unknown[], R>(recorder: ToolCallRecorder, tool: string, handler: (...params: A) => R | Promise<R>, options: { pins?: ToolPins } = {}): (...params: A) => Promise<R> {
  return async (...params) => {
    // registerTool passes (args, ctx) with an inputSchema and (ctx) without; ctx.http.authInfo is the token.
    const ctx = params.at(-1) as { http?: { authInfo?: AuthInfo } } | undefined;
    const args = params.length > 1 ? params[0] : undefined;
    const startedAt = Date.now();
    const started = performance.now();
    let result: R | undefined;
    let decision: 'allowed' | 'refused_by_budget' = 'allowed';
    let bytes: number | null = null;
    try {
      result = await handler(...params);
      bytes = jsonBytes(result);
      const cap = options.pins?.maxResultBytes();
      if (cap !== undefined && bytes > cap) {
        decision = 'refused_by_budget';
        return { isError: true, content: [{ type: 'text', text: `the result of ${tool} (${bytes} bytes) is larger than the ${cap} bytes this server may return` }] } as R;
      }
      return result;
    } finally {
      recorder.record({ tool, arguments: args, auth: ctx?.http?.authInfo, decision, startedAt, durationMs: performance.now() - started, resultBytes: bytes });
    }
  };
}
