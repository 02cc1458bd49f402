// The framework-free core: one object per protected MCP server that verifies requests, builds challenges
// and answers metadata requests. The adapters (koa, node, MCP SDKs) are thin shells around it.
import type { AccessTokenInfo } from './access-token-info.ts';
import { createMetadataDiscovery } from './as-metadata.ts';
import { extractBearerToken, type BearerRequest } from './bearer-token.ts';
import { bearerChallenge, type ChallengeResponse } from './challenge.ts';
import { createIntrospectionVerifier } from './introspection-verifier.ts';
import { createJwtVerifier } from './jwt-verifier.ts';
import { metadataPaths, metadataResponse, protectedResourceMetadata, type MetadataResponse, type ProtectedResourceMetadata } from './metadata.ts';
import { resolveOptions, type ResourceServerOptions } from './options.ts';
import { requireScopes } from './scopes.ts';
import type { ToolScopes } from './tool-scopes.ts';

/** What one protected route requires beyond a valid token: scopes for every request, scopes per tool. */
export interface ProtectOptions {
  /** Scopes every request must hold (403 insufficient_scope otherwise); also the `scope` of a 401. */
  requiredScopes?: readonly string[];
  /**
   * Per-tool scopes, checked against the `tools/call` requests in the parsed JSON-RPC body (`request.body`
   * for `authenticate`; the adapters read the body themselves when no body parser ran).
   */
  toolScopes?: ToolScopes;
}

/** One protected resource: verifies its tokens, answers its challenges and serves its RFC 9728 metadata. */
export interface ResourceServer {
  /** The canonical resource URI: the `aud` tokens must carry and the PRM `resource`. */
  readonly resource: string;
  /** The path-inserted RFC 9728 metadata URL advertised in challenges. */
  readonly resourceMetadataUrl: string;
  readonly metadata: ProtectedResourceMetadata;
  /** The paths the metadata is served at (path-inserted, and the root one when configured). */
  readonly metadataPaths: readonly string[];
  /** Verifies one token (JWT or introspection, as configured); throws ResourceServerError. */
  verifyAccessToken(token: string): Promise<AccessTokenInfo>;
  /** Extracts the bearer token, verifies it and checks scopes; throws ResourceServerError. */
  authenticate(request: BearerRequest, options?: ProtectOptions): Promise<AccessTokenInfo>;
  /** The HTTP answer (status, headers, body) for an error thrown by `authenticate`. */
  challenge(error: unknown, options?: ProtectOptions): ChallengeResponse;
  /** The answer to a metadata request, or undefined when `url` is not a metadata path. */
  metadataResponse(method: string, url: string): MetadataResponse | undefined;
}

/**
 * Creates the resource server for one MCP endpoint. The options are checked at once (a bad `resource`
 * or a `none`/HS* algorithm throws here, at start); the authorization server's metadata and keys are
 * fetched on the first token and cached.
 *
 * @example
 * const rs = createResourceServer({ resource: 'https://mcp.example.com/mcp', issuer: 'https://auth.example.com' });
 * const info = await rs.authenticate({ authorization: req.headers.authorization, url: req.url });
 */
export function createResourceServer(input: ResourceServerOptions): ResourceServer {
  const options = resolveOptions(input);
  const discover = createMetadataDiscovery(options.issuer, options.httpTimeoutMs, options.fetch);
  // Introspection mode never tries JWT verification first: its tokens are opaque (see README).
  const verify = options.introspection ? createIntrospectionVerifier(options, discover) : createJwtVerifier(options, discover);

  return {
    resource: options.resource,
    resourceMetadataUrl: options.resourceMetadataUrl,
    metadata: protectedResourceMetadata(options),
    metadataPaths: metadataPaths(options),
    verifyAccessToken: verify,
    async authenticate(request, protect = {}) {
      const info = await verify(extractBearerToken(request));
      if (protect.requiredScopes) requireScopes(info, protect.requiredScopes);
      protect.toolScopes?.check(info, request.body);
      return info;
    },
    challenge(error, protect = {}) {
      return bearerChallenge(error, {
        resourceMetadataUrl: options.resourceMetadataUrl,
        scopes: protect.requiredScopes ?? options.scopesSupported,
      });
    },
    metadataResponse(method, url) {
      const query = url.indexOf('?');
      return metadataResponse(options, method.toUpperCase(), query === -1 ? url : url.slice(0, query));
    },
  };
}
