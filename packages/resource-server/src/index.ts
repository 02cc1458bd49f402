// The public API of `@portcullis/resource-server`: only exports, framework-free. Each adapter has its own
// entry (`/node`, `/koa`, `/mcp-sdk-v1`, `/mcp-sdk-v2`) so its framework stays an optional peer.
export { createResourceServer } from './resource-server.ts';
export type { ResourceServer, ProtectOptions } from './resource-server.ts';
export type { ResourceServerOptions, IntrospectionOptions, DpopOptions } from './options.ts';
export { DEFAULT_ALGORITHMS } from './options.ts';
export type { AccessTokenInfo } from './access-token-info.ts';
export { ResourceServerError, isResourceServerError } from './errors.ts';
export type { ResourceServerErrorCode } from './errors.ts';

export { extractBearerToken, extractAccessToken } from './bearer-token.ts';
export type { BearerRequest, PresentedToken } from './bearer-token.ts';
export { bearerChallenge, dpopChallenge, formatBearerChallenge, quoteHeaderValue } from './challenge.ts';
export type { ChallengeOptions, ChallengeResponse } from './challenge.ts';
export {
  canonicalResource, tryCanonicalResource, resourceUriProblem, protectedResourceMetadataPath, protectedResourceMetadataUrl,
} from './resource-uri.ts';
export type { ProtectedResourceMetadata, MetadataResponse } from './metadata.ts';
export { requireScopes, stepUpScopes } from './scopes.ts';
export { createToolScopes, calledTools } from './tool-scopes.ts';
export type { ToolScopes, ToolScopesOptions } from './tool-scopes.ts';
export { createSingleUseScopes } from './single-use-scopes.ts';
export type { SingleUseScopes, SingleUseScopesOptions, SingleUseTokenInfo } from './single-use-scopes.ts';
export { verifyDpopProof, normalizeHtu, DEFAULT_DPOP_ALGORITHMS } from './dpop-proof.ts';
export type { DpopProofCheck } from './dpop-proof.ts';
export { createMemoryDpopReplayStore } from './dpop-replay.ts';
export type { DpopReplayStore } from './dpop-replay.ts';
export { exchangeToken, TOKEN_EXCHANGE_GRANT_TYPE } from './exchange-token.ts';
export type { ExchangeTokenOptions, ExchangedToken } from './exchange-token.ts';
export { TokenExchangeError } from './errors.ts';
export type { TokenExchangeErrorCode } from './errors.ts';
export { TOOL_SCOPES_META_KEY, INVENTORY_CLIENT_ID, toolDefinitionOf, toolDigest, toolScopesMeta, canonicalJson } from './tool-digest.ts';
export type { ToolDefinition } from './tool-digest.ts';
export { createToolPins, toolPinRefusal, toolCallerOf, TOOL_REFUSED_ERROR_CODE, TOOL_BUDGET_ERROR_CODE } from './tool-pins.ts';
export type { ToolPins, ToolPinsOptions, ToolCallDecision, ToolStatus, ToolRisk, DriftPolicy, ApprovedCatalog, ToolBudget, ToolCaller } from './tool-pins.ts';
export { createMemoryBudgetStore } from './budget-store.ts';
export type { BudgetStore, BudgetCall, MemoryBudgetStoreOptions } from './budget-store.ts';
export { createRedisBudgetStore } from './redis-budget-store.ts';
export type { RedisBudgetStoreOptions } from './redis-budget-store.ts';
export { reportTools } from './report-tools.ts';
export type { ReportToolsOptions, ReportedTools } from './report-tools.ts';
export { createToolCallRecorder, argumentsDigest, toolCallRecord, recordRefusedCalls, recordPinRefusals, toolCallsIn, jsonBytes } from './tool-calls.ts';
export type { ToolCallRecorder, ToolCallRecorderOptions, ToolCallRecord, ObservedToolCall, ToolCallOutcome } from './tool-calls.ts';
