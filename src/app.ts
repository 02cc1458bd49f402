// Composition root: createApp({ config, db, secrets }) builds the provider, our routes and the koa
// app around them. main.ts and every HTTP test use this same function.
import Koa from 'koa';
import Router from '@koa/router';
import compose from 'koa-compose';
import { bodyParser } from '@koa/bodyparser';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import type { Secrets } from './secrets.ts';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { errorBoundary, respondServiceUnavailable } from './errors.ts';
import { mountAt } from './http/mount.ts';
import { ensureSigningKeys, loadSigningJwks } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { settlePendingConsume } from './oidc/adapter.ts';
import { registerInteractionRoutes } from './interactions/routes.ts';
import { registerPortalRoutes } from './portal/routes.ts';
import { securityHeaders } from './http/security-headers.ts';
import { csrfProtection, isProtectedPath } from './http/csrf.ts';
import { requestScope } from './oidc/request-scope.ts';
import { registerAssetRoutes } from './http/static-assets.ts';
import { discoveryAliases } from './http/discovery.ts';
import { registrationGate } from './http/registration-gate.ts';
import { setViewBasePath } from './views.ts';
import { describeThrown, log } from './log.ts';

export interface AppDeps { config: Config; db: Db; secrets: Secrets }
export interface PortcullisApp { app: Koa; provider: Provider; mountPath: string }

export async function createApp({ config, db, secrets }: AppDeps): Promise<PortcullisApp> {
  await ensureSigningKeys(db, secrets.keyEncryptionSecret);
  const jwks = await loadSigningJwks(db, secrets.keyEncryptionSecret);
  const mountPath = new URL(config.issuer).pathname.replace(/\/+$/, '');
  setViewBasePath(mountPath);
  const provider = createProvider({ config, db, jwks, cookieKeys: secrets.cookieKeys, mountPath });

  // oidc-provider answers its own errors; one whose cause is an unreachable database becomes a 503
  // with Retry-After instead of a 500, so clients back off and retry.
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (isDatabaseUnavailable(error)) respondServiceUnavailable(ctx);
    else log.error('provider server_error', { path: ctx.path, requestId: ctx.state.requestId, error: describeThrown(error) });
  });

  const router = new Router({ prefix: mountPath || undefined });
  router.get('/healthz', (ctx) => { ctx.body = { status: 'ok' }; });
  registerAssetRoutes(router);
  registerInteractionRoutes(router, { provider, db, loginThrottle: config.loginThrottle });
  registerPortalRoutes(router, { provider, db, mountPath, loginThrottle: config.loginThrottle });

  // oidc-provider's middleware runs on our koa context, so our app signs its cookies with the same keys.
  const app = new Koa({ proxy: config.trustProxy, keys: secrets.cookieKeys });
  app.use(securityHeaders());
  app.use(errorBoundary());
  app.use(discoveryAliases(mountPath, db));
  // Our interaction and /account pages call oidc-provider's API outside its routes: they get a request scope (for
  // the adapter's request cache, which oidc-provider's own routes key by Provider.ctx) and a form
  // parser (oidc-provider parses its endpoints' bodies itself).
  const interactionPages = compose([requestScope(), bodyParser({ enableTypes: ['form'], formLimit: '16kb' })]);
  app.use((ctx, next) => (isProtectedPath(ctx.path, mountPath) ? interactionPages(ctx, next) : next()));
  // After the form parser: refuses cross-site and token-less POSTs to our pages (interaction, account).
  app.use(csrfProtection({ mountPath, keys: secrets.cookieKeys, issuerOrigin: new URL(config.issuer).origin, secure: config.issuer.startsWith('https://') }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(async (ctx, next) => {
    await next();
    if (!(await settlePendingConsume(db, ctx, config.refreshGraceSeconds))) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'refresh token already used' };
    }
  });
  // Client registration (RFC 7591/7592): rate limit, no updates, a deleted client's grants ended.
  app.use(registrationGate({ db, mountPath, rateLimit: config.registration }));
  app.use(mountAt(mountPath, provider));
  return { app, provider, mountPath };
}
