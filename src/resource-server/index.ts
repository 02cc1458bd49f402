// The public API of `portcullis/resource-server`: only exports. One module per job; see README
// "Resource-server kit" for the few lines an MCP server author writes.
export { createResourceServer } from './resource-server.ts';
export type { ResourceServer, ProtectOptions } from './resource-server.ts';
export type { ResourceServerOptions, IntrospectionOptions } from './options.ts';
export { DEFAULT_ALGORITHMS } from './options.ts';
export type { AccessTokenInfo } from './access-token-info.ts';
export { ResourceServerError, isResourceServerError } from './errors.ts';
export type { ResourceServerErrorCode } from './errors.ts';

export { extractBearerToken } from './bearer-token.ts';
export type { BearerRequest } from './bearer-token.ts';
export { bearerChallenge, formatBearerChallenge, quoteHeaderValue } from './challenge.ts';
export type { ChallengeOptions, ChallengeResponse } from './challenge.ts';
export { canonicalResource, protectedResourceMetadataPath, protectedResourceMetadataUrl } from './resource-uri.ts';
export type { ProtectedResourceMetadata, MetadataResponse } from './metadata.ts';
export { requireScopes, stepUpScopes } from './scopes.ts';
export { createToolScopes, calledTools } from './tool-scopes.ts';
export type { ToolScopes, ToolScopesOptions } from './tool-scopes.ts';
export { createSingleUseScopes } from './single-use-scopes.ts';
export type { SingleUseScopes, SingleUseScopesOptions, SingleUseTokenInfo } from './single-use-scopes.ts';

export { koaBearerAuth, koaProtectedResourceMetadata } from './koa.ts';
export type { KoaAuthState } from './koa.ts';
export { nodeBearerAuth, nodeProtectedResourceMetadata, sendChallenge } from './node.ts';
export type { NodeRequest, NodeNext } from './node.ts';
export { mcpServerTokenVerifier, toolScopeChallenge } from './mcp-sdk-v2.ts';
export type { McpServerSdkErrors } from './mcp-sdk-v2.ts';
export { mcpSdkV1TokenVerifier } from './mcp-sdk-v1.ts';
export type { McpSdkV1Errors } from './mcp-sdk-v1.ts';
