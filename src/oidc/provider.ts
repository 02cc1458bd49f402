// The one oidc-provider instance: every option we rely on is set here explicitly, with its reason.
// Behaviour is extended only through oidc-provider's documented configuration and hooks.
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { findAccountById } from '../accounts/store.ts';
import { createAdapterClass } from './adapter.ts';
import { requestCache } from './request-cache.ts';
import { clientSecretMatches } from './client-secret.ts';
import { alignTokenRequestResource, createResourceDirectory } from './resource-servers.ts';
import { validateRegistrationMetadata } from './registration-policy.ts';
import { renderErrorPage } from './error-page.ts';
import { renderLoggedOutPage, renderLogoutPage } from './logout-pages.ts';
import { subscribeAuditEvents } from './audit-events.ts';

export interface ProviderDeps {
  config: Config;
  db: Db;
  jwks: JWK[];
  cookieKeys: string[];
  /** Path prefix of the issuer (e.g. '/auth' for https://host/auth), '' when none. */
  mountPath: string;
}

const epoch = () => Math.floor(Date.now() / 1000);

export function createProvider({ config, db, jwks, cookieKeys, mountPath }: ProviderDeps): Provider {
  const resources = createResourceDirectory(db, config.signingAlg);
  const secure = config.issuer.startsWith('https://');

  const configuration: Configuration = {
    adapter: createAdapterClass(db, {
      refreshGraceSeconds: config.refreshGraceSeconds,
      consumeGuards: {
        AuthorizationCode: (payload) => {
          const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
          if (ctx?.oidc) alignTokenRequestResource(ctx, payload.resource as string | string[] | undefined);
        },
      },
    }),
    jwks: { keys: jwks as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure, signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure, signed: true },
    },
    async findAccount(_ctx, sub) {
      // A token request's account arrives with its token in one query (token-prefetch.ts).
      const account = requestCache.getAccount(sub) ?? await findAccountById(db, sub);
      if (!account || account.disabled) return undefined;
      return { accountId: account.id, claims: () => ({ sub: account.id, email: account.email }) };
    },
    claims: { openid: ['sub'], email: ['email'] },
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
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    extraClientMetadata: { properties: ['portcullis_source'], validator: validateRegistrationMetadata as never },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource: renderLogoutPage, postLogoutSuccessSource: renderLoggedOutPage },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: resources.getResourceServerInfo as never,
        defaultResource: resources.defaultResource as never,
        // A token request that omits `resource` gets the one the code or refresh token was issued for.
        useGrantedResource: () => true,
      },
    },
    // MCP clients run unattended: they get a refresh token whether or not they ask for offline_access,
    // and it does not die with the browser session that approved it.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: () => false,
    // Every refresh rotates. Before the old token is consumed, the request's `resource` must be its
    // own, so a refused request leaves the refresh token usable (see alignTokenRequestResource).
    rotateRefreshToken(ctx) {
      alignTokenRequestResource(ctx, ctx.oidc.entities.RefreshToken?.resource as string | string[] | undefined);
      return true;
    },
    ttl: {
      // Each resource's own lifetime (resources table, capped at an hour); the default otherwise.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtlSeconds,
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
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    renderError: renderErrorPage,
    // Browser-based MCP clients may call the token endpoint from the origin of a redirect URI they registered.
    clientBasedCORS(_ctx, origin, client) {
      return client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false;
    },
    enabledJWA: {
      authorizationSigningAlgValues: ['ES256', 'EdDSA', 'RS256'],
      idTokenSigningAlgValues: ['ES256', 'EdDSA', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'EdDSA', 'RS256'],
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  // Confidential clients' secrets are stored as digests (see client-secret.ts).
  provider.Client.prototype.compareClientSecret = function compare(this: { clientSecret?: string }, presented: string) {
    return clientSecretMatches(this.clientSecret, presented);
  };
  subscribeAuditEvents(provider, db);
  return provider;
}

