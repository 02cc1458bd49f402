// The framework-free core: one object per protected MCP server that verifies requests, builds challenges
// and answers metadata requests. The adapters (koa, node, MCP SDKs) are thin shells around it.
import type { AccessTokenInfo } from './access-token-info.ts';
import { createMetadataDiscovery } from './as-metadata.ts';
import { boundDpopKey } from './access-token-info.ts';
import { extractAccessToken, type BearerRequest } from './bearer-token.ts';
import { bearerChallenge, dpopChallenge, type ChallengeResponse } from './challenge.ts';
import { verifyDpopProof } from './dpop-proof.ts';
import { invalidToken, ResourceServerError } from './errors.ts';
import { createIntrospectionVerifier } from './introspection-verifier.ts';
import { createJwtVerifier } from './jwt-verifier.ts';
import { metadataPaths, metadataResponse, protectedResourceMetadata, type MetadataResponse, type ProtectedResourceMetadata } from './metadata.ts';
import { resolveOptions, type ResourceServerOptions } from './options.ts';
import { requireScopes } from './scopes.ts';
import type { ToolScopes } from './tool-scopes.ts';
import type { ToolCallRecorder } from './tool-calls.ts';
import { checkToolScopes } from './tool-call-gates.ts';

/** What one protected route requires beyond a valid token: scopes for every request, scopes per tool. */
export interface ProtectOptions {
  /** Scopes every request must hold (403 insufficient_scope otherwise); also the `scope` of a 401. */
  requiredScopes?: readonly string[];
  /**
   * Per-tool scopes, checked against the `tools/call` requests in the parsed JSON-RPC body (`request.body`
   * for `authenticate`; the adapters read the body themselves when no body parser ran).
   */
  toolScopes?: ToolScopes;
  /** Where the `tools/call`s refused for a missing scope are recorded (tool-calls.ts; issue 14 §6). */
  toolCalls?: ToolCallRecorder;
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
  /** Verifies one bearer token (JWT or introspection, as configured); a DPoP-bound one is refused (it needs its proof: use `authenticate`). */
  verifyAccessToken(token: string): Promise<AccessTokenInfo>;
  /**
   * Extracts the token (`Bearer`, or `DPoP` with its proof in `request.dpop`, checked against `request.method`
   * and the request path on the resource's origin), verifies it and checks scopes; throws ResourceServerError.
   */
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
    async verifyAccessToken(token) {
      const info = await verify(token);
      if (info.claims.cnf !== undefined) throw invalidToken('the token is sender-constrained');
      return info;
    },
    async authenticate(request, protect = {}) {
      const presented = extractAccessToken(request);
      const info = await verify(presented.token);
      const jkt = boundDpopKey(info.claims);
      if (jkt !== undefined) {
        // RFC 9449 §7.1: a DPoP-bound token sent as Bearer is refused (a copied token is not enough).
        if (presented.scheme !== 'dpop') throw new ResourceServerError('invalid_token', 'the token is sender-constrained', { dpop: true });
        await verifyDpopProof({
          proof: request.dpop,
          method: request.method ?? '',
          // htu is checked against the configured resource's origin, never the Host header (the client's to choose).
          url: new URL(request.url ?? '/', options.resource).href,
          accessToken: presented.token,
          jkt,
          algorithms: options.dpop.algorithms,
          maxAgeSeconds: options.dpop.maxAgeSeconds,
          replayStore: options.dpop.replayStore,
        });
      } else if (presented.scheme === 'dpop') {
        throw new ResourceServerError('invalid_token', 'the token is not DPoP-bound: send it as a Bearer token', { dpop: true });
      } else if (options.dpop.required) {
        throw new ResourceServerError('invalid_token', 'this resource accepts only DPoP-bound tokens', { dpop: true });
      }
      if (protect.requiredScopes) requireScopes(info, protect.requiredScopes);
      checkToolScopes(protect.toolScopes, info, request.body, protect.toolCalls);
      return info;
    },
    challenge(error, protect = {}) {
      const challengeOptions = { resourceMetadataUrl: options.resourceMetadataUrl, scopes: protect.requiredScopes ?? options.scopesSupported };
      // RFC 9449 §7.1: a DPoP-only resource, or a refusal about DPoP, is answered with a DPoP challenge and its algs.
      const dpop = options.dpop.required || (error instanceof ResourceServerError && error.dpop);
      return dpop ? dpopChallenge(error, { ...challengeOptions, algorithms: options.dpop.algorithms }) : bearerChallenge(error, challengeOptions);
    },
    metadataResponse(method, url) {
      const query = url.indexOf('?');
      return metadataResponse(options, method.toUpperCase(), query === -1 ? url : url.slice(0, query));
    },
  };
}
