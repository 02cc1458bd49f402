// Plugs the kit into the MCP TypeScript SDK v2 (`@modelcontextprotocol/server`): a token verifier for its
// bearer-auth helpers, a DPoP-capable gate in place of them, per-tool `scopeChallenge` handlers, the pin gate
// and the tool-call recording wrapper.
import type { AuthInfo, OAuthError, OAuthTokenVerifier, ScopeChallengeHandler } from '@modelcontextprotocol/server';
import { ResourceServerError } from './errors.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import { missingScopes, stepUpScopes } from './scopes.ts';
import { calledTools, type ToolScopes } from './tool-scopes.ts';
import type { ToolPins } from './tool-pins.ts';
import type { ToolCallRecorder } from './tool-calls.ts';
import { pinRefusalOf } from './tool-call-gates.ts';
import { challengeResponse } from './mcp-sdk-v2-handler.ts';
import { bodyTooLargeResponse, readRequestJson } from './read-request-json.ts';

export { protectMcpHandler } from './mcp-sdk-v2-handler.ts';
export type { McpFetchHandler, ProtectedMcpHandlerOptions } from './mcp-sdk-v2-handler.ts';

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
 * With `toolScopes`, the JSON-RPC body is read from a clone, so the request stays readable for the handler; a body
 * over 4 MiB is answered 413 as it streams in. `protectMcpHandler` does all this and the SDK's call in one, reading
 * the body once: the cheaper way.
 */
export function mcpServerAuthGate(server: ResourceServer, options: ProtectOptions = {}): (request: Request) => Promise<AuthInfo | Response> {
  return async (request) => {
    const url = new URL(request.url);
    const body = options.toolScopes ? await jsonOfClone(request) : undefined;
    if (body === TOO_LARGE) return bodyTooLargeResponse();
    try {
      return await server.authenticate({
        authorization: request.headers.get('authorization') ?? undefined, dpop: request.headers.get('dpop') ?? undefined,
        method: request.method, url: `${url.pathname}${url.search}`, body,
      }, options);
    } catch (error) {
      return challengeResponse(server, error, options);
    }
  };
}

const TOO_LARGE = Symbol('too large');

/** A POST's JSON body read from a clone, bounded (undefined when there is none or it is not JSON). */
async function jsonOfClone(request: Request): Promise<unknown> {
  if (request.method !== 'POST') return undefined;
  const read = await readRequestJson(request.clone());
  return read === 'too large' ? TOO_LARGE : read.json;
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
    const body = await jsonOfClone(request);
    if (body === TOO_LARGE) return bodyTooLargeResponse();
    const refusal = await pinRefusalOf(pins, body, auth, options.toolCalls);
    return refusal === undefined ? undefined : new Response(JSON.stringify(refusal), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

/** Wraps an SDK v2 tool handler to record each call that runs (the token is at `ctx.http.authInfo`); see recorded-tool.ts. */
export { recordedTool } from './recorded-tool.ts';
