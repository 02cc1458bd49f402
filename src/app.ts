// Composition root: createApp({ config, db, secrets }) builds the provider, our routes and the koa
// app around them. main.ts and every HTTP test use this same function.
import Koa from 'koa';
import Router from '@koa/router';
import compose from 'koa-compose';
import { bodyParser } from '@koa/bodyparser';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import type { Secrets } from './secrets.ts';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { errorBoundary, respondServiceUnavailable } from './errors.ts';
import { mountAt } from './http/mount.ts';
import { ensureSigningKeys } from './oidc/keys.ts';
import { ProviderHolder } from './oidc/provider-holder.ts';
import { createProvider } from './oidc/provider.ts';
import { settlePendingConsume, settlePendingDestroy } from './oidc/adapter.ts';
import { registerInteractionRoutes } from './interactions/routes.ts';
import { registerPortalRoutes } from './portal/routes.ts';
import { registerAdminRoutes } from './admin/routes.ts';
import { securityHeaders } from './http/security-headers.ts';
import { csrfProtection, isProtectedPath } from './http/csrf.ts';
import { requestScope } from './oidc/request-scope.ts';
import { registerAssetRoutes } from './http/static-assets.ts';
import { discoveryAliases } from './http/discovery.ts';
import { registrationGate } from './http/registration-gate.ts';
import { setViewBasePath } from './views.ts';
import { describeThrown, log } from './log.ts';
import { accessLog } from './http/access-log.ts';
import { createMetrics } from './http/metrics.ts';
import { readiness } from './http/readiness.ts';
import { rememberAuthorizationRequests } from './oidc/authorization-restart.ts';
import { watchDiskFull } from './db/disk-full-watch.ts';
import { requestDeadline } from './http/request-deadline.ts';
import { tokenRateLimit } from './http/rate-limit.ts';
import { createRateLimits } from './rate-limit/limits.ts';

export interface AppDeps { config: Config; db: Db; secrets: Secrets }
export interface PortcullisApp {
  app: Koa;
  /** The Provider new requests get; replaced when the signing keys change. */
  readonly provider: Provider;
  mountPath: string;
  /** refresh(): re-read the published signing keys now (after a rotation in this process); watch(): every N seconds. */
  signingKeys: { refresh(): Promise<boolean>; watch(intervalSeconds: number): () => void };
  /** Releases what the app holds besides the database (the rate limits' Redis connection, metrics listeners). */
  close(): Promise<void>;
}

/** One Provider and everything wired to that instance, built together for one signing key set. */
interface ProviderGeneration { provider: Provider; routes: Koa.Middleware; oidc: Koa.Middleware }

export async function createApp({ config, db: givenDb, secrets }: AppDeps): Promise<PortcullisApp> {
  // Every store goes through the watched Db, so a full disk seen by any of them reaches /readyz.
  const diskFull = watchDiskFull(givenDb);
  const db = diskFull.db;
  await ensureSigningKeys(db, secrets.keyEncryptionSecret);
  const mountPath = new URL(config.issuer).pathname.replace(/\/+$/, '');
  setViewBasePath(mountPath);
  // Operations (src/http/metrics.ts, src/rate-limit/): one set per app, shared by every Provider generation.
  const metrics = createMetrics(db, config.metricsToken);
  const rateLimits = createRateLimits(config.rateLimits, db);
  rateLimits.onRefused = metrics.rateLimited;
  // Every sign-in form runs on the configured limits and the shared count (database or Redis).
  const loginThrottle = { policy: config.loginThrottle, attempts: rateLimits.loginAttempts };

  // oidc-provider reads its keys once, so a rotated or retired key means a new Provider
  // (src/oidc/provider-holder.ts). Anything that holds a Provider instance (event listeners, routes
  // calling its API) is built here, once per key set; a request finishes on the generation it began on.
  const buildGeneration = (jwks: JWK[]): ProviderGeneration => {
    const provider = createProvider({ config, db, jwks, cookieKeys: secrets.cookieKeys, mountPath, rateLimits });

    // oidc-provider answers its own errors; one whose cause is an unreachable database becomes a 503
    // with Retry-After instead of a 500, so clients back off and retry.
    provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
      if (isDatabaseUnavailable(error)) respondServiceUnavailable(ctx);
      else log.error('provider server_error', { path: ctx.path, requestId: ctx.state.requestId, error: describeThrown(error) });
    });

    const router = new Router({ prefix: mountPath || undefined });
    router.get('/healthz', (ctx) => { ctx.body = { status: 'ok' }; });
    router.get('/readyz', readiness(db, { diskFullSince: diskFull.fullSince }));
    router.get('/metrics', metrics.endpoint);
    registerAssetRoutes(router);
    registerInteractionRoutes(router, { provider, db, loginThrottle });
    registerPortalRoutes(router, { provider, db, mountPath, loginThrottle });
    registerAdminRoutes(router, { provider, db, config, secrets, mountPath, loginThrottle, refreshSigningKeys: () => providers.refresh() });
    return { provider, routes: compose([router.routes(), router.allowedMethods()]) as Koa.Middleware, oidc: mountAt(mountPath, provider) };
  };
  const providers = await ProviderHolder.create({ db, keyEncryptionSecret: secrets.keyEncryptionSecret, build: buildGeneration });

  // oidc-provider's middleware runs on our koa context, so our app signs its cookies with the same keys.
  const app = new Koa({ proxy: config.trustProxy, keys: secrets.cookieKeys });
  app.use(securityHeaders());
  app.use(accessLog(metrics));
  app.use(errorBoundary());
  app.use(requestDeadline(config.requestDeadlineMs));
  app.use(tokenRateLimit(rateLimits, mountPath));
  app.use(discoveryAliases(mountPath, db));
  // Our interaction and /account pages call oidc-provider's API outside its routes: they get a request scope (for
  // the adapter's request cache, which oidc-provider's own routes key by Provider.ctx) and a form
  // parser (oidc-provider parses its endpoints' bodies itself).
  const interactionPages = compose([requestScope(), bodyParser({ enableTypes: ['form'], formLimit: '16kb' })]);
  app.use((ctx, next) => (isProtectedPath(ctx.path, mountPath) ? interactionPages(ctx, next) : next()));
  // After the form parser: refuses cross-site and token-less POSTs to our pages (interaction, account).
  app.use(csrfProtection({ mountPath, keys: secrets.cookieKeys, issuerOrigin: new URL(config.issuer).origin, secure: config.issuer.startsWith('https://') }));
  app.use((ctx, next) => providers.forRequest(ctx).routes(ctx, next));
  app.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      // An old session id must not outlive the request that replaced it, even one that failed.
      await settlePendingDestroy(db, ctx);
    }
    if (!(await settlePendingConsume(db, ctx, config.refreshGraceSeconds))) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'refresh token already used' };
    }
  });
  // Client registration (RFC 7591/7592): rate limit, no updates, a deleted client's grants ended.
  app.use(registrationGate({ db, mountPath, rateLimit: config.registration, attempts: rateLimits.registrationAttempts }));
  // Outside oidc-provider: a browser whose resumed sign-in hit a crashed server can start it again.
  app.use(rememberAuthorizationRequests({ mountPath, secure: config.issuer.startsWith('https://') }));
  app.use((ctx, next) => providers.forRequest(ctx).oidc(ctx, next));
  return {
    app,
    mountPath,
    get provider() { return providers.current.provider; },
    signingKeys: { refresh: () => providers.refresh(), watch: (seconds) => providers.watch(seconds) },
    close: async () => { metrics.close(); await rateLimits.close(); },
  };
}
