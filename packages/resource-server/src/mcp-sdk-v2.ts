// Plugs the kit into the MCP TypeScript SDK v2 (`@modelcontextprotocol/server`): a token verifier for its
// bearer-auth helpers, and per-tool `scopeChallenge` handlers for `registerTool`. Type-only SDK imports.
import type { AuthInfo, OAuthError, OAuthTokenVerifier, ScopeChallengeHandler } from '@modelcontextprotocol/server';
import { ResourceServerError } from './errors.ts';
import type { ResourceServer } from './resource-server.ts';
import { missingScopes, stepUpScopes } from './scopes.ts';
import { calledTools, type ToolScopes } from './tool-scopes.ts';

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
