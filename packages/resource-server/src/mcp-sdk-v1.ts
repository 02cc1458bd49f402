// Plugs the kit into the MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`): an `OAuthTokenVerifier`
// for its express `requireBearerAuth` (bearer tokens), a drop-in for that middleware that also takes DPoP, the
// pin gate as express middleware, and the tool-call recording wrapper for its tool handlers.
import type { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenInfo } from './access-token-info.ts';
import { ResourceServerError } from './errors.ts';
import { nodeToolPinGate, sendChallenge } from './node.ts';
import { ensureJsonBody } from './read-json-body.ts';
import { checkToolScopes } from './tool-call-gates.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import type { ToolPins } from './tool-pins.ts';
import type { ToolCallRecorder } from './tool-calls.ts';

export { TOOL_BUDGET_ERROR_CODE, TOOL_REFUSED_ERROR_CODE } from './tool-pins.ts';

/** The SDK's error classes (`import * as errors from '@modelcontextprotocol/sdk/server/auth/errors.js'`). */
export interface McpSdkV1Errors {
  InvalidTokenError: typeof InvalidTokenError;
  ServerError: typeof ServerError;
}

/**
 * `verifier` for `requireBearerAuth` from `@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js`.
 * v1 maps only its own error classes to a 401 challenge (anything else is a 500), hence the classes.
 * That middleware reads `Authorization: Bearer` only and hands the verifier the token alone, so a
 * DPoP-bound token is refused here (it needs its proof, the method and the URL): use `mcpSdkV1BearerAuth`.
 */
export function mcpSdkV1TokenVerifier(server: ResourceServer, sdk: McpSdkV1Errors): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        return await server.verifyAccessToken(token);
      } catch (error) {
        if (error instanceof ResourceServerError && error.code !== 'temporarily_unavailable') {
          throw new sdk.InvalidTokenError(error.message);
        }
        throw new sdk.ServerError('the authorization server could not be reached');
      }
    },
  };
}

/** An express request as far as this middleware reads it: `originalUrl` is the path before any mount point. */
type ExpressRequest = IncomingMessage & { originalUrl?: string; body?: unknown; auth?: AuthInfo };

/**
 * In place of the SDK's `requireBearerAuth(...)` on express: accepts `Authorization: Bearer` tokens and
 * DPoP-bound ones (`Authorization: DPoP` with a `DPoP` proof checked against the method and the request's
 * path on the resource's origin, RFC 9449 §4.3), puts the token on `req.auth` (where the SDK's transport
 * looks) and answers refusals with the kit's challenges (`WWW-Authenticate: DPoP … algs=` for DPoP). With
 * `toolScopes` it checks each `tools/call`'s scopes on `req.body` (from `express.json()`, or read here and left
 * there), recording refusals as `insufficient_scope` with `toolCalls`.
 *
 *   app.post('/mcp', express.json(), mcpSdkV1BearerAuth(rs), (req, res) => transport.handleRequest(req, res, req.body));
 */
export function mcpSdkV1BearerAuth(server: ResourceServer, options: ProtectOptions = {}) {
  const { toolScopes, ...tokenOptions } = options;
  return async (req: ExpressRequest, res: ServerResponse, next: () => void): Promise<void> => {
    let auth: AccessTokenInfo;
    try {
      auth = await server.authenticate({
        authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method,
        // express strips a mount point from req.url; the proof's htu names the whole path.
        url: req.originalUrl ?? req.url, body: req.body,
      }, tokenOptions);
      // Without express.json() the body is read here (after the token checked out): unread, it would hold no tools/call and pass.
      if (toolScopes && req.method === 'POST') {
        if (!(await ensureJsonBody(req, res))) return;
        checkToolScopes(toolScopes, auth, req.body, options.toolCalls);
      }
    } catch (error) {
      sendChallenge(res, server.challenge(error, options));
      return;
    }
    req.auth = auth;
    next();
  };
}

/**
 * The pin gate as express middleware, after `mcpSdkV1BearerAuth` (it reads the token from `req.auth`): refuses the
 * `tools/call`s the approved catalog does not cover, or over a budget, with one JSON-RPC error each (HTTP 200;
 * `-32003` `tool_not_approved`, `-32004` `budget_exceeded`; a batch with one refused call runs none), recording
 * the refusals with `toolCalls`; other requests go on. It is `nodeToolPinGate` in `(req, res, next)` form: the
 * body comes from `express.json()`, or is read here and left on `req.body` for the transport.
 *
 *   app.post('/mcp', express.json(), mcpSdkV1BearerAuth(rs), mcpSdkV1ToolPinGate(pins, { toolCalls: recorder }),
 *     (req, res) => transport.handleRequest(req, res, req.body));
 */
export function mcpSdkV1ToolPinGate(pins: ToolPins, options: { toolCalls?: ToolCallRecorder } = {}) {
  const gate = nodeToolPinGate(pins, options);
  return async (req: ExpressRequest, res: ServerResponse, next: () => void): Promise<void> => {
    if (!(await gate(req, res))) next();
  };
}

/** Wraps an SDK v1 tool handler (`registerTool`, `tool`) to record each call that runs (the token is at `extra.authInfo`); see recorded-tool.ts. */
export { recordedTool } from './recorded-tool.ts';
