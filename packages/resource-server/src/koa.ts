// Adapter for koa: middleware that serves the metadata and guards the MCP endpoint, putting the verified
// token on `ctx.state.auth` (and on `ctx.req.auth`, where the MCP SDKs' node transports look).
import type { Middleware } from 'koa';
import type { AccessTokenInfo } from './access-token-info.ts';
import { readJsonBody } from './read-json-body.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';

/** What `koaBearerAuth` puts on `ctx.state` for the handlers after it. */
export interface KoaAuthState {
  auth: AccessTokenInfo;
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
        if (request.body === undefined) {
          const body = await readJsonBody(ctx.req);
          if (!body.ok) {
            ctx.status = body.status;
            ctx.type = 'application/json';
            ctx.body = body.body;
            return;
          }
          request.body = body.value;
        }
        toolScopes.check(auth, request.body);
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
