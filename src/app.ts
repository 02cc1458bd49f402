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
import { databaseFailure, errorBoundary, respondWithOAuthError } from './errors.ts';
import { inputBoundary } from './http/input-boundary.ts';
import { mountAt } from './http/mount.ts';
import { ensureSigningKeys } from './oidc/keys.ts';
import { ProviderHolder } from './oidc/provider-holder.ts';
import { createProvider } from './oidc/provider.ts';
import { settleAdapterWrites } from './oidc/adapter-settlement.ts';
import { onlyWhen, step, usePipeline } from './http/pipeline.ts';
import { registerInteractionRoutes } from './interactions/routes.ts';
import { registerPortalRoutes } from './portal/routes.ts';
import { registerAdminRoutes } from './admin/routes.ts';
import { securityHeaders } from './http/security-headers.ts';
import { csrfProtection, isProtectedPath } from './http/csrf.ts';
import { requestScope } from './request/scope.ts';
import { registerAssetRoutes } from './http/static-assets.ts';
import { registerResourceToolRoutes } from './http/resource-tools.ts';
import { discoveryAliases, discoveryAliasPaths } from './http/discovery.ts';
import { canonicalPaths } from './http/canonical-path.ts';
import { createRouteResolver, type RouteTables } from './http/route-resolver.ts';
import { providerRoutes } from './oidc/provider-routes.ts';
import { backfillEmailKeys } from './accounts/store.ts';
import { discoveryFromIssuer } from './http/discovery-origin.ts';
import { registrationGate } from './http/registration-gate.ts';
import { setViewBasePath } from './views.ts';
import { leavingInterstitial } from './oidc/leaving-interstitial.ts';
import { describeThrown, log } from './log.ts';
import { accessLog } from './http/access-log.ts';
import { createMetrics } from './http/metrics.ts';
import { readiness } from './http/readiness.ts';
import { rememberAuthorizationRequests } from './oidc/authorization-restart.ts';
import { watchDiskFull } from './db/disk-full-watch.ts';
import { requestDeadline } from './http/request-deadline.ts';
import { tokenRateLimit } from './http/rate-limit.ts';
import { createRateLimits } from './rate-limit/limits.ts';
import { traceQueries, traceRequests } from './telemetry/tracing.ts';

export interface AppDeps { config: Config; db: Db; secrets: Secrets }
export interface PortcullisApp {
  app: Koa;
  /** The Provider new requests get; replaced when the signing keys change. */
  readonly provider: Provider;
  mountPath: string;
  /** The names of the request pipeline's steps, in the order every request crosses them. */
  readonly pipeline: readonly string[];
  /** refresh(): re-read the published signing keys now (after a rotation in this process); watch(): every N seconds. */
  signingKeys: { refresh(): Promise<boolean>; watch(intervalSeconds: number): () => void };
  /** Our router's routes (method and full path template), for tests that try every route. */
  appRoutes(): Array<{ methods: string[]; template: string }>;
  /** Releases what the app holds besides the database (the rate limits' Redis connection, metrics listeners). */
  close(): Promise<void>;
}

/** One Provider and everything wired to that instance, built together for one signing key set. */
interface ProviderGeneration { provider: Provider; routes: Koa.Middleware; oidc: Koa.Middleware; routeTables: RouteTables }

export async function createApp({ config, db: givenDb, secrets }: AppDeps): Promise<PortcullisApp> {
  // Every store goes through the watched Db, so a full disk seen by any of them reaches /readyz.
  const diskFull = watchDiskFull(givenDb);
  const db = traceQueries(diskFull.db);
  await ensureSigningKeys(db, secrets.keyEncryptionSecret);
  // Accounts from before migration 0018 with a non-ASCII email get the key they are looked up by.
  await backfillEmailKeys(db);
  const mountPath = new URL(config.issuer).pathname.replace(/\/+$/, '');
  setViewBasePath(mountPath);
  // Operations (src/http/metrics.ts, src/rate-limit/): one set per app, shared by every Provider generation.
  const metrics = createMetrics(db, config.metricsToken);
  const rateLimits = createRateLimits(config.rateLimits, db);
  rateLimits.onRefused = metrics.rateLimited;
  // Every sign-in form runs on the configured limits and the shared count (database or Redis).
  const loginThrottle = { policy: config.loginThrottle, attempts: rateLimits.loginAttempts };
  const secure = config.issuer.startsWith('https://');
  // Sign-in through identity providers (src/federation/flow.ts): their requests go through the SSRF-safe fetch.
  const federationFlow = {
    db, issuer: config.issuer, upstream: {
      keyEncryptionSecret: secrets.keyEncryptionSecret, allowLoopback: config.cimd.allowLoopback,
      github: { webUrl: config.federation.githubWebUrl, apiUrl: config.federation.githubApiUrl },
    },
  };

  // oidc-provider reads its keys once, so a rotated or retired key means a new Provider
  // (src/oidc/provider-holder.ts). Anything that holds a Provider instance (event listeners, routes
  // calling its API) is built here, once per key set; a request finishes on the generation it began on.
  const buildGeneration = (jwks: JWK[]): ProviderGeneration => {
    const provider = createProvider({ config, db, jwks, cookieKeys: secrets.cookieKeys, mountPath, rateLimits });

    // oidc-provider answers its own errors; one whose cause is an unreachable database becomes a 503
    // with Retry-After instead of a 500, so clients back off and retry.
    provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
      // A value the database refused to store (bad input, not a fault) becomes 400 invalid_request.
      const fromDatabase = databaseFailure(error);
      if (fromDatabase) respondWithOAuthError(ctx, fromDatabase);
      else log.error('provider server_error', { path: ctx.path, requestId: ctx.state.requestId, error: describeThrown(error) });
    });

    const router = new Router({ prefix: mountPath || undefined });
    router.get('/healthz', (ctx) => { ctx.body = { status: 'ok' }; });
    router.get('/readyz', readiness(db, { diskFullSince: diskFull.fullSince }));
    router.get('/metrics', metrics.endpoint);
    registerAssetRoutes(router);
    registerResourceToolRoutes(router, { db });
    registerInteractionRoutes(router, { provider, db, loginThrottle, flow: federationFlow, mountPath, secure });
    registerPortalRoutes(router, { provider, db, mountPath, loginThrottle, federation: { flow: federationFlow, mountPath, secure } });
    registerAdminRoutes(router, { provider, db, config, secrets, mountPath, loginThrottle, refreshSigningKeys: () => providers.refresh() });
    return {
      provider, routes: compose([router.routes(), router.allowedMethods()]) as Koa.Middleware, oidc: mountAt(mountPath, provider, (ctx) => routes.underMount(ctx)),
      routeTables: { app: router, provider: providerRoutes(provider) },
    };
  };
  const providers = await ProviderHolder.create({ db, keyEncryptionSecret: secrets.keyEncryptionSecret, build: buildGeneration });
  // Which route a request reaches, asked of the routers themselves: gates key on it (src/http/route-resolver.ts).
  const routes = createRouteResolver({ mountPath, aliases: discoveryAliasPaths(mountPath), tablesFor: (ctx) => providers.forRequest(ctx).routeTables });

  // oidc-provider's middleware runs on our koa context, so our app signs its cookies with the same keys.
  // Behind proxies, ctx.ip is the right-most X-Forwarded-For entry no trusted proxy added (maxIpsCount).
  const app = new Koa({ proxy: config.trustProxy, maxIpsCount: config.trustProxyHops, keys: secrets.cookieKeys });
  // Our pages by path, and by the route the request reaches whatever its spelling (canonical paths
  // already refuses other spellings; this keeps the check on the route if that ever changes).
  const onOurPages = (ctx: Koa.Context) => isProtectedPath(ctx.path, mountPath)
    || (routes.resolve(ctx)?.routes.some((route) => route.owner === 'app' && isProtectedPath(route.template, mountPath)) ?? false);

  // Every request crosses these steps in this order; a gate sits before whatever it guards.
  const pipeline = usePipeline(app, [
    step('security headers', securityHeaders()),
    // A server span per request when tracing is configured (src/telemetry/); a pass-through otherwise.
    step('trace', traceRequests()),
    step('access log', accessLog(metrics)),
    // The one place an error becomes a response (src/errors.ts).
    step('error boundary', errorBoundary()),
    step('request deadline', requestDeadline(config.requestDeadlineMs)),
    // Before any gate or handler: each route answers to one spelling of its path.
    step('canonical paths', canonicalPaths(routes)),
    step('token rate limit', tokenRateLimit(rateLimits, routes)),
    // Before any parser or query: NUL, lone surrogates, bad UTF-8, deep JSON → 400.
    step('input boundary', inputBoundary({ mountPath, routes, isOurPage: onOurPages })),
    step('discovery from issuer', discoveryFromIssuer(config.issuer)),
    step('discovery aliases', discoveryAliases(mountPath, db, routes)),
    // Our interaction and /account pages call oidc-provider's API outside its routes: they get a request
    // scope (for the adapter's request cache, which oidc-provider's own routes key by Provider.ctx) and a
    // form parser (oidc-provider parses its endpoints' bodies itself).
    step('page forms', onlyWhen(onOurPages, compose([requestScope(), bodyParser({ enableTypes: ['form'], formLimit: '16kb' })]) as Koa.Middleware)),
    // After the form parser: refuses cross-site and token-less POSTs to our pages.
    step('csrf check', csrfProtection({ mountPath, keys: secrets.cookieKeys, issuerOrigin: new URL(config.issuer).origin, secure, protects: onOurPages })),
    // Our router only for a request that reaches one of its routes (under any method, for its 405s):
    // oidc-provider's endpoints skip matching its whole table.
    step('our routes', (ctx, next) => (routes.resolve(ctx)?.routes.some((route) => route.owner === 'app')
      ? providers.forRequest(ctx).routes(ctx, next) : next())),
    step('adapter settlement', settleAdapterWrites(db, config.refreshGraceSeconds)),
    // Client registration (RFC 7591/7592): rate limit, no updates, a deleted client's grants ended.
    step('registration gate', registrationGate({ db, rateLimit: config.registration, attempts: rateLimits.registrationAttempts, routes })),
    // Unvetted clients' error and logout redirects become a "You are leaving" page (RFC 9700 §4.11.2).
    step('leaving interstitial', leavingInterstitial()),
    // Outside oidc-provider: a browser whose resumed sign-in hit a crashed server can start it again.
    step('authorization restart', rememberAuthorizationRequests({ mountPath, secure })),
    step('oidc-provider', (ctx, next) => providers.forRequest(ctx).oidc(ctx, next)),
  ]);
  return {
    app,
    mountPath,
    pipeline,
    get provider() { return providers.current.provider; },
    signingKeys: { refresh: () => providers.refresh(), watch: (seconds) => providers.watch(seconds) },
    appRoutes: () => providers.current.routeTables.app.stack.filter((layer) => layer.methods.length > 0)
      .map((layer) => ({ methods: [...layer.methods], template: String(layer.path) })),
    close: async () => { metrics.close(); await rateLimits.close(); },
  };
}
