// The one oidc-provider instance: every option we rely on is set here explicitly, with its reason.
// Behaviour is extended only through oidc-provider's documented configuration and hooks.
import { ID_JAG_GRANT_PROFILE, registerIdJagGrant } from '../id-jag/grant.ts';
import { exchangedTokenClaims, registerTokenExchangeGrant } from '../exchange/grant.ts';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { findAccountById } from '../accounts/store.ts';
import { createAdapterClass } from './adapter.ts';
import { requestCache } from '../request/adapter-cache.ts';
import { clientSecretMatches } from '../clients/secret.ts';
import { alignTokenRequestResource, createResourceDirectory, scopesWithRisk } from './resource-servers.ts';
import { withDefaultScopes } from './default-scopes.ts';
import { DPOP_SIGNING_ALGS, refuseUnboundAccessToken, requireDpopProofBeforeConsume } from './dpop-required.ts';
import { withMachineClientBinding } from './machine-client-policy.ts';
import { CLIENT_ASSERTION_ALGS } from '../clients/machine-schema.ts';
import { createRegistrationValidator } from './registration-policy.ts';
import { registrationSecretFactory, revealRegisteredSecrets } from './registration-secret.ts';
import { renderErrorPage } from './error-page.ts';
import { rememberAuthorizationErrors } from './leaving-interstitial.ts';
import { renderLoggedOutPage, renderLogoutPage } from './logout-pages.ts';
import { subscribeAuditEvents } from './audit-events.ts';
import { subscribeFailureEvents } from './failure-events.ts';
import { rememberSessionCookiePolicy } from './session-cookie.ts';
import { completeIntrospection, publishedKeySet, verifyOwnAccessTokenJwt } from './introspection-endpoint.ts';
import { answerUnauthorizedClient } from './grant-type-refusal.ts';
import { INTROSPECTS_METADATA, introspectionAllowed, refusingSelfRegisteredBinding } from './introspection-policy.ts';
import { createInteractionPolicy, createLoadExistingGrant } from './consent-policy.ts';
import { createIrreversibleScopeRules } from './irreversible-scopes.ts';
import { createOrganisationPolicy } from './organisation-policy.ts';
import { oidcClaimsConfiguration } from '../accounts/identity-claims.ts';
import { withSpentScopesDroppedOnRefresh } from './spent-scope-refresh.ts';
import { createMetadataDocumentResolver } from '../cimd/resolver.ts';
import { withMetadataDocumentClients } from '../cimd/adapter.ts';
import { withMetadataDocumentReconsent } from '../cimd/reconsent.ts';
import { withToolReconsent } from './tool-reconsent.ts';
import { fetchOptionsFromConfig } from '../cimd/fetch-document.ts';
import { createProviderFetch } from '../cimd/provider-fetch.ts';
import type { RateLimits } from '../rate-limit/limits.ts';
import { withInteractionLimits } from '../rate-limit/interaction-limits.ts';
import { countTokenRequestsPerClient, metadataFetchGate, withTokenClientRateLimit } from '../rate-limit/provider-hooks.ts';
import { traceProviderSteps } from '../telemetry/tracing.ts';

/** The storage adapter's limits (src/rate-limit/): sign-ins started at /auth, and the token endpoint's per-client budget. */
function withRateLimit<T extends Parameters<typeof withTokenClientRateLimit>[0]>(Base: T, limits: RateLimits | undefined, db: Db) {
  if (!limits) return Base;
  const interactions = withInteractionLimits(Base, limits, db, { maxPendingInteractions: limits.config.authMaxPendingInteractions });
  return withTokenClientRateLimit(interactions, limits);
}

export interface ProviderDeps {
  config: Config;
  db: Db;
  jwks: JWK[];
  cookieKeys: string[];
  /** Path prefix of the issuer (e.g. '/auth' for https://host/auth), '' when none. */
  mountPath: string;
  /** Token-endpoint and metadata-fetch rate limits (src/rate-limit/); absent: none. */
  rateLimits?: RateLimits | undefined;
}

const epoch = () => Math.floor(Date.now() / 1000);

export function createProvider({ config, db, jwks, cookieKeys, mountPath, rateLimits }: ProviderDeps): Provider {
  const resources = createResourceDirectory(db, config.signingAlg, config.resourceCacheSeconds);
  const secure = config.issuer.startsWith('https://');
  const irreversible = createIrreversibleScopeRules(resources);
  // Machine clients (client_credentials, src/oidc/machine-client-policy.ts) in front of the default-scope step.
  const resourceLookup = withMachineClientBinding(db, resources, {
    getResourceServerInfo: withDefaultScopes(resources), defaultResource: resources.defaultResource as never,
  });
  // Issue 12: the organisation's policies, read per request, on every authorization and refresh.
  const organisationPolicy = createOrganisationPolicy(db, resources);
  // Client ID Metadata Documents (MCP 2025-11-25): an https client_id is answered by our adapter from a
  // database-shared cache and an SSRF-safe fetch (src/cimd/). oidc-provider's experimental
  // `features.clientIdMetadataDocument` stays off: its cache is per process and it has no domain
  // policy, loopback development mode or change detection; the adapter answers before it would run.
  const outbound = fetchOptionsFromConfig(config.cimd);
  const metadataDocuments = createMetadataDocumentResolver({
    db, domainPolicy: config.cimd.domainPolicy, fetch: outbound,
    validateClient: async (metadata) => { await provider.Client.validate(metadata); },
    ...(rateLimits ? { beforeFetch: metadataFetchGate(rateLimits) } : {}),
  });

  const configuration: Configuration = {
    // Outermost: the token endpoint's per-client rate limit counts before the client is resolved.
    // Innermost wrapper: a refresh repeating a spent irreversible scope is trimmed (spent-scope-refresh.ts).
    adapter: withRateLimit(withMetadataDocumentClients(withSpentScopesDroppedOnRefresh(createAdapterClass(db, {
      refreshGraceSeconds: config.refreshGraceSeconds,
      consumeGuards: {
        AuthorizationCode: async (payload) => {
          const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
          if (!ctx?.oidc) return;
          alignTokenRequestResource(ctx, payload.resource as string | string[] | undefined);
          await requireDpopProofBeforeConsume(db, ctx, resources.find, payload.resource as string | string[] | undefined);
        },
      },
    }), resources), metadataDocuments), rateLimits, db),
    jwks: { keys: jwks as NonNullable<Configuration['jwks']>['keys'] },
    // A metadata-document client's jwks_uri is fetched under the documents' own rules (provider-fetch.ts).
    fetch: createProviderFetch(outbound),
    // Cookie prefixes (RFC 6265bis §4.1.3) on an https issuer make browsers refuse a cookie of that name
    // planted over http or by a sibling host. `__Host-` demands Path=/ and no Domain: the session cookie
    // (long) has both. oidc-provider path-scopes the interaction cookies (to /interaction/<uid> and
    // /auth/<uid>, so two authorizations in two tabs keep apart), so they take `__Secure-` (Secure, no
    // Domain is ever set). Plain http (local development) can use neither prefix, nor Secure.
    cookies: {
      keys: cookieKeys,
      names: secure
        ? { session: '__Host-session', interaction: '__Secure-interaction', resume: '__Secure-interaction_resume' }
        : { session: '_session', interaction: '_interaction', resume: '_interaction_resume' },
      long: { httpOnly: true, sameSite: 'lax', secure, signed: true, path: '/' },
      short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
    },
    async findAccount(_ctx, sub) {
      // A token request's account arrives with its token in one query (token-prefetch.ts).
      const account = requestCache.getAccount(sub) ?? await findAccountById(db, sub);
      if (!account || account.disabled) return undefined;
      return { accountId: account.id, claims: () => ({ sub: account.id, email: account.email }) };
    },
    // Every claim a client can receive has a line on the consent page (src/accounts/identity-claims.ts).
    claims: oidcClaimsConfiguration,
    scopes: ['openid', 'offline_access'],
    // OAuth 2.1: the authorization code flow only; no implicit, no hybrid, no password grant.
    responseTypes: ['code'],
    // PKCE for every client; oidc-provider 9 supports S256 only.
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    },
    // private_key_jwt: for metadata-document clients that publish their keys (jwks / jwks_uri), and for
    // machine clients with keys (recommended by SEP-1046); client_secret_basic/post for those with a secret.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    // The ID-JAG grant profile (draft-ietf-oauth-identity-assertion-authz-grant §7.2; MCP ext-auth
    // Enterprise-Managed Authorization §6): how a client learns the jwt-bearer grant takes ID-JAGs here.
    discovery: { client_id_metadata_document_supported: true, authorization_grant_profiles_supported: [ID_JAG_GRANT_PROFILE] },
    extraClientMetadata: { properties: ['portcullis_source', INTROSPECTS_METADATA], validator: refusingSelfRegisteredBinding(
      createRegistrationValidator({ initialAccessToken: config.registration.initialAccessToken }) as never) as never },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed as never },
      revocation: { enabled: true },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource: renderLogoutPage, postLogoutSuccessSource: renderLoggedOutPage },
      // RFC 7591, open to public clients; the initial access token (which would gate every registration
      // in oidc-provider) is checked by our policy instead, and only confidential clients need it.
      registration: {
        enabled: true, initialAccessToken: false, issueRegistrationAccessToken: true, secretFactory: registrationSecretFactory as never,
      },
      // RFC 7592 read and delete with the registration access token; update is refused in
      // src/http/registration-gate.ts, so the token never rotates (rotation happens only on update).
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      // RFC 9449: a token request with a DPoP proof gets an access token bound to the proof's key (cnf.jkt,
      // token_type DPoP) and, for a public client, a refresh token bound to it too. Proofs' jti are kept in
      // the shared database (ReplayDetection model), so a proof is used once across all processes; iat may be
      // 5 minutes off (oidc-provider's window; the MCP ext-auth DPoP draft asks ±5 min). No server nonces:
      // clients of every MCP SDK would need a retry for them. Resources set to `--dpop required` refuse
      // token requests without a proof (dpop-required.ts).
      dPoP: { enabled: true, allowReplay: false },
      // OAuth 2.1 §4.2 for machine clients (MCP ext-auth SEP-1046): only operator-registered ones carry the
      // grant type (self-registration asking for it is refused in registration-policy.ts), each bound to
      // one resource and its allowed scopes (machine-client-policy.ts); no person, so no refresh token.
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // The lookup, then the default-scope rule (default-scopes.ts) as a step of its own.
        getResourceServerInfo: resourceLookup.getResourceServerInfo as never,
        defaultResource: resourceLookup.defaultResource as never,
        // A token request that omits `resource` gets the one the code or refresh token was issued for.
        useGrantedResource: () => true,
      },
    },
    // MCP clients run unattended: they get a refresh token whether or not they ask for offline_access,
    // and it does not die with the browser session that approved it.
    // Redeeming a code spends its irreversible scopes first, so the refresh token never carries one.
    async issueRefreshToken(ctx, client, source) {
      await irreversible.spendAtCodeRedemption(ctx, source as never);
      return client.grantTypeAllowed('refresh_token');
    },
    // Every access token, whatever grant issued it: none for a DPoP-required resource leaves unbound.
    // RFC 8693 §4.1: a token issued by token exchange names its actor, the MCP server (src/exchange/grant.ts).
    async extraTokenClaims(ctx, token) {
      const audience = (token as { resourceServer?: { audience?: unknown } }).resourceServer?.audience;
      if (typeof audience === 'string') await refuseUnboundAccessToken(db, ctx, await resources.find(audience), token as never);
      return exchangedTokenClaims(ctx, token as never);
    },
    loadExistingGrant: createLoadExistingGrant(resources, organisationPolicy) as never,
    expiresWithSession: () => false,
    // Every refresh rotates. Before the old token is consumed, the request's `resource` must be its
    // own, so a refused request leaves the refresh token usable (see alignTokenRequestResource).
    async rotateRefreshToken(ctx) {
      const stored = ctx.oidc.entities.RefreshToken?.resource as string | string[] | undefined;
      alignTokenRequestResource(ctx, stored);
      await requireDpopProofBeforeConsume(db, ctx, resources.find, stored);
      // Then the organisation's policy narrows the grant and the successor (organisation-policy.ts).
      await organisationPolicy.atRefresh(ctx);
      return true;
    },
    ttl: {
      // Each resource's own lifetime (resources table, capped at an hour); the default otherwise.
      // A token carrying an irreversible scope lives five minutes at most (irreversible-scopes.ts).
      AccessToken: (ctx, token) => irreversible.capAccessTokenTtl(ctx, token,
        token.resourceServer?.accessTokenTTL ?? config.accessTokenTtlSeconds),
      // A machine client's token: its resource's lifetime too, and the same cap for an irreversible scope.
      ClientCredentials: (ctx, token) => irreversible.capAccessTokenTtl(ctx, token,
        token.resourceServer?.accessTokenTTL ?? config.accessTokenTtlSeconds),
      AuthorizationCode: config.authorizationCodeTtlSeconds,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: config.refreshTokenTtlSeconds,
      // Absolute lifetime: counted from the first token of the rotation chain, not from each rotation.
      RefreshToken: (_ctx, token) => {
        const firstIssuedAt = typeof token.iiat === 'number' ? token.iiat : epoch();
        return Math.max(1, firstIssuedAt + config.refreshTokenTtlSeconds - epoch());
      },
    },
    interactions: {
      policy: withToolReconsent(withMetadataDocumentReconsent(
        createInteractionPolicy(resources, { askNativeClientsEveryTime: config.nativeClientConsent === 'every-time' }), db), db, resources),
      url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`,
    },
    renderError: renderErrorPage,
    // Browser-based MCP clients may call the token endpoint from the origin of a redirect URI they registered.
    clientBasedCORS(_ctx, origin, client) {
      return client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false;
    },
    enabledJWA: {
      authorizationSigningAlgValues: ['ES256', 'EdDSA', 'RS256'],
      idTokenSigningAlgValues: ['ES256', 'EdDSA', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'EdDSA', 'RS256'],
      // Advertised as dpop_signing_alg_values_supported (RFC 9449 §5.1).
      dPoPSigningAlgValues: [...DPOP_SIGNING_ALGS],
      // private_key_jwt assertions (RFC 7523 §2.2): asymmetric only; without client_secret_jwt, HS256 would mean nothing.
      clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // First, so its span covers every other middleware of the provider's (src/telemetry/provider-spans.ts).
  traceProviderSteps(provider);
  // RFC 7662 for JWT access tokens too, and only for authenticated clients (introspection-endpoint.ts).
  provider.use(completeIntrospection(jwks));
  // A client asking for a grant type it was not registered with: unauthorized_client (grant-type-refusal.ts).
  provider.use(answerUnauthorizedClient());
  rememberSessionCookiePolicy(provider, configuration);
  provider.proxy = config.trustProxy;
  provider.maxIpsCount = config.trustProxyHops;
  if (rateLimits) countTokenRequestsPerClient(provider, rateLimits);
  // Confidential clients' secrets are stored as digests (see src/clients/secret.ts).
  provider.Client.prototype.compareClientSecret = function compare(this: { clientSecret?: string }, presented: string) {
    return clientSecretMatches(this.clientSecret, presented);
  };
  // ID-JAG jwt-bearer grant (MCP Enterprise-Managed Authorization, src/id-jag/grant.ts).
  registerIdJagGrant(provider, { db, issuer: config.issuer, fetch: outbound, resources: {
    getResourceServerInfo: resources.getResourceServerInfo,
    irreversibleScopes: (ctx, uri) => scopesWithRisk(resources.resolvedFor(ctx, uri), 'irreversible'),
  } });
  // RFC 8693 token exchange for an MCP server's downstream calls (src/exchange/grant.ts).
  const ownKeys = publishedKeySet(jwks);
  registerTokenExchangeGrant(provider, {
    db, boundResourceKey: INTROSPECTS_METADATA, resources,
    verifyJwt: (token) => verifyOwnAccessTokenJwt(token, config.issuer, ownKeys),
  });
  subscribeAuditEvents(provider, db);
  subscribeFailureEvents(provider, db);
  rememberAuthorizationErrors(provider);
  revealRegisteredSecrets(provider);
  return provider;
}

