// Plugs the kit into the MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`): an `OAuthTokenVerifier`
// for its express `requireBearerAuth`. Type-only SDK imports; its error classes are passed in.
import type { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { ResourceServerError } from './errors.ts';
import type { ResourceServer } from './resource-server.ts';

/** The SDK's error classes (`import * as errors from '@modelcontextprotocol/sdk/server/auth/errors.js'`). */
export interface McpSdkV1Errors {
  InvalidTokenError: typeof InvalidTokenError;
  ServerError: typeof ServerError;
}

/**
 * `verifier` for `requireBearerAuth` from `@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js`.
 * v1 maps only its own error classes to a 401 challenge (anything else is a 500), hence the classes.
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
