// Everything the server keeps about one request beyond koa's own fields, in one typed record per koa
// context: made on first use, and gone with the context (a WeakMap holds it, so nothing outlives the request).
import type { Span } from '@opentelemetry/api';
import type { AdapterPayload } from 'oidc-provider';
import type { ResolvedRoute } from './route.ts';

/**
 * An account as the request's prefetch read it: the fields of src/accounts/schema.ts's Account, spelled out
 * here because request/ sits below every domain (views.ts and errors.ts, which the domains use, read its scope).
 */
export interface PrefetchedAccount { id: string; email: string; isAdmin: boolean; disabled: boolean }

/** A storage write the adapter holds back to the next write of the same request (src/oidc/adapter.ts). */
export interface DeferredWrite { model: string; id: string }

/** An authorization error oidc-provider answered with (its `authorization.error` event). */
export interface AuthorizationFailure { error: string; description?: string | undefined }

/** A resource's policies and an account's identity claims, as the prefetch's JSON columns hold them. */
export interface PrefetchedPolicyFacts { resourceUri: string; accountId: string; policies: unknown; identities: unknown }

export interface RequestState {
  /** The adapter's reads by model and id; null: read and absent (adapter-cache.ts). */
  readonly payloads: Map<string, AdapterPayload | null>;
  /** The adapter's lookups by uid (oidc-provider finds a Session by its uid when it loads an interaction). */
  readonly byUid: Map<string, AdapterPayload | null>;
  /** Accounts read with the request's prefetch (src/oidc/token-prefetch.ts, authorization-prefetch.ts). */
  readonly accounts: Map<string, PrefetchedAccount>;
  /** The registered resources this request resolved, by audience: oidc-provider's synchronous hooks (token
   * lifetimes) read them here (src/oidc/resource-servers.ts, which types them; request/ sits below resources/). */
  readonly resolvedResources: Map<string, unknown>;
  /** The Provider generation this request started on, kept to its end whatever is rebuilt meanwhile
   * (src/oidc/provider-holder.ts; typed there). */
  providerGeneration?: unknown;
  /** The span of oidc-provider's step of this request, when tracing is on (src/telemetry/provider-spans.ts). */
  providerSpan?: Span | undefined;
  /** A refresh token whose consumption waits to be written with its successor (src/oidc/adapter.ts). */
  pendingConsume?: DeferredWrite | undefined;
  /** A token request's refresh-token save and its audit rows, held to the end of the request to be written in
   * one statement (typed and used by src/oidc/token-issue-write.ts). */
  pendingTokenWrite?: unknown;
  /** An authorization step's storage writes and audit rows, held to be sent in one statement when the
   * request ends (typed and used by src/oidc/held-model-writes.ts). */
  heldModelWrites?: unknown;
  /** A session id oidc-provider dropped (it renews the id at every resumed authorization), to be deleted
   * with the save of its successor (src/oidc/adapter.ts). */
  pendingDestroy?: DeferredWrite | undefined;
  /** Metadata-document resolutions that failed, by client_id: oidc-provider's error handler looks the
   * client up again, and that must not fetch (and wait) a second time (src/cimd/adapter.ts). */
  readonly metadataDocumentFailures: Map<string, Error>;
  /** The route this request reaches, resolved once; null: none (src/http/route-resolver.ts). */
  route?: ResolvedRoute | null | undefined;
  /** A self-registered client's plain secret, between oidc-provider asking for one and the 201 leaving
   * (src/oidc/registration-secret.ts). */
  registrationSecret?: string | undefined;
  /** The error this authorization request was answered with (src/oidc/leaving-interstitial.ts). */
  authorizationFailure?: AuthorizationFailure | undefined;
  /** The error page was rendered: it sends nobody on, so the leaving page leaves it alone (src/oidc/error-page.ts). */
  errorPageRendered?: boolean | undefined;
  /** Requested scopes the organisation's policy withheld from this authorization, for the prompt checks
   * that run after loadExistingGrant (src/oidc/organisation-policy.ts). */
  policyWithheldScopes?: ReadonlySet<string> | undefined;
  /** A grant's re-consent flags read with the authorization prefetch, by grant id (json, typed and used by
   * src/grants/tool-reconsent.ts and src/oidc/tool-reconsent.ts). */
  readonly toolReconsents: Map<string, unknown>;
  /** The policies of the request's resource and its account's identity claims, read with the request's
   * prefetch (src/oidc/token-prefetch.ts, authorization-prefetch.ts; typed and used by src/policies/service.ts). */
  prefetchedPolicyFacts?: PrefetchedPolicyFacts | undefined;
  /** Registered resources read with the authorization prefetch, by canonical URI (typed and used by
   * src/resources/request-resource.ts; request/ sits below resources/). */
  readonly prefetchedResources: Map<string, unknown>;
}

const states = new WeakMap<object, RequestState>();

/** The state of the request whose koa context this is (oidc-provider's routes and ours share one context). */
export function requestState(ctx: object): RequestState {
  let state = states.get(ctx);
  if (!state) {
    state = { payloads: new Map(), byUid: new Map(), accounts: new Map(), resolvedResources: new Map(), metadataDocumentFailures: new Map(), toolReconsents: new Map(), prefetchedResources: new Map() };
    states.set(ctx, state);
  }
  return state;
}
