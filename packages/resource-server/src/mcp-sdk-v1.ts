// Plugs the kit into the MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`): an `OAuthTokenVerifier`
// for its express `requireBearerAuth` (bearer tokens), and a drop-in for that middleware that also takes DPoP.
import type { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenInfo } from './access-token-info.ts';
import { ResourceServerError } from './errors.ts';
import { sendChallenge } from './node.ts';
import type { ProtectOptions, ResourceServer } from './resource-server.ts';

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
 * looks) and answers refusals with the kit's challenges (`WWW-Authenticate: DPoP … algs=` for DPoP).
 *
 *   app.post('/mcp', express.json(), mcpSdkV1BearerAuth(rs), (req, res) => transport.handleRequest(req, res, req.body));
 */
export function mcpSdkV1BearerAuth(server: ResourceServer, options: ProtectOptions = {}) {
  return async (req: ExpressRequest, res: ServerResponse, next: () => void): Promise<void> => {
    let auth: AccessTokenInfo;
    try {
      auth = await server.authenticate({
        authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method,
        // express strips a mount point from req.url; the proof's htu names the whole path.
        url: req.originalUrl ?? req.url, body: req.body,
      }, options);
    } catch (error) {
      sendChallenge(res, server.challenge(error, options));
      return;
    }
    req.auth = auth;
    next();
  };
}
