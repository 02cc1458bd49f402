// Adapter for koa: middleware that serves the metadata and guards the MCP endpoint, putting the verified
// token on `ctx.state.auth` (and on `ctx.req.auth`, where the MCP SDKs' node transports look), and the pin gate.
import type { Middleware, ParameterizedContext } from 'koa';
import type { AccessTokenInfo } from './access-token-info.ts';
import { readJsonBody } from './read-json-body.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';
import type { ToolPins } from './tool-pins.ts';
import type { ToolCallRecorder } from './tool-calls.ts';
import { checkToolScopes, pinRefusalOf } from './tool-call-gates.ts';

/** What `koaBearerAuth` puts on `ctx.state` for the handlers after it. */
export interface KoaAuthState {
  auth: AccessTokenInfo;
}

/** Leaves the JSON body on `ctx.request.body` (read here unless a body parser did); false once a parse error is answered. */
async function ensureBody(ctx: ParameterizedContext): Promise<boolean> {
  const request = ctx.request as typeof ctx.request & { body?: unknown };
  if (request.body !== undefined) return true;
  const body = await readJsonBody(ctx.req);
  if (!body.ok) {
    ctx.status = body.status;
    ctx.type = 'application/json';
    ctx.body = body.body;
    return false;
  }
  request.body = body.value;
  return true;
}

/** Serves the protected resource metadata at its paths; every other request goes on. */
export function koaProtectedResourceMetadata(server: ResourceServer): Middleware {
  return async (ctx, next) => {
    const answer = server.metadataResponse(ctx.method, ctx.url);
    if (!answer) return next();
    ctx.status = answer.status;
    ctx.set(answer.headers);
    if (answer.body !== undefined) ctx.body = answer.body;
  };
}

/**
 * Requires a valid bearer token. With `toolScopes`, the JSON-RPC body is taken from `ctx.request.body`
 * (a body parser ran) or read here and left there for the MCP handler.
 */
export function koaBearerAuth(server: ResourceServer, options: ProtectOptions = {}): Middleware<KoaAuthState> {
  const { toolScopes, ...tokenOptions } = options;
  return async (ctx, next) => {
    const request = ctx.request as typeof ctx.request & { body?: unknown };
    let auth: AccessTokenInfo;
    try {
      auth = await server.authenticate({
        authorization: ctx.get('authorization') || undefined, url: ctx.url, body: request.body, method: ctx.method, dpop: ctx.get('dpop') || undefined,
      }, tokenOptions);
      if (toolScopes && ctx.method === 'POST') {
        if (!(await ensureBody(ctx))) return;
        checkToolScopes(toolScopes, auth, request.body, options.toolCalls);
      }
    } catch (error) {
      const challenge = server.challenge(error, options);
      ctx.status = challenge.status;
      ctx.set(challenge.headers);
      if (challenge.body) ctx.body = challenge.body;
      return;
    }
    ctx.state.auth = auth;
    (ctx.req as typeof ctx.req & { auth?: AccessTokenInfo }).auth = auth;
    await next();
  };
}

/**
 * After `koaBearerAuth` (which leaves the verified token on `ctx.state.auth`): refuses the `tools/call`s the approved
 * catalog does not cover, or over a budget, as the node gate does: HTTP 200 with one JSON-RPC error per refused
 * call (`-32003` `tool_not_approved`, `-32004` `budget_exceeded`; a batch with one refused call runs none), the
 * refusals recorded with `toolCalls`. Other requests go on to the MCP handler. The body is `ctx.request.body`
 * (read here when neither a body parser nor `koaBearerAuth` with `toolScopes` did). Without a token on
 * `ctx.state.auth` it still refuses what the pins refuse (fail closed) and records nothing.
 *
 *   router.post('/mcp', koaBearerAuth(rs, { toolScopes }), koaToolPinGate(pins, { toolCalls: recorder }), mcpHandler);
 */
export function koaToolPinGate(pins: ToolPins, options: { toolCalls?: ToolCallRecorder } = {}): Middleware<KoaAuthState> {
  return async (ctx, next) => {
    const auth = ctx.state.auth as AccessTokenInfo | undefined;
    if (ctx.method !== 'POST') return next();
    if (!(await ensureBody(ctx))) return;
    const refusal = await pinRefusalOf(pins, (ctx.request as typeof ctx.request & { body?: unknown }).body, auth, options.toolCalls);
    if (refusal === undefined) return next();
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = refusal;
  };
}
