// The operator console (/admin) and the admin JSON API (/admin/api) on the app's router. Every route
// is registered through `page` or `api` below, so none can exist without its admin check.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { bodyParser } from '@koa/bodyparser';
import type { Config } from '../config.ts';
import type { LoginThrottle } from '../accounts/login-throttle.ts';
import type { Db } from '../db/db.ts';
import type { Secrets } from '../secrets.ts';
import type { AdminActor } from './actor.ts';
import { apiErrors, requireAdminToken } from './api-auth.ts';
import { registerAdminApiRoutes } from './api-routes.ts';
import { registerConsoleSignIn, requireAdminPage } from './console-auth.ts';
import { registerConsolePages } from './console-pages.ts';
import { registerConsoleResourcePages } from './console-resources.ts';

export interface AdminDeps {
  provider: Provider; db: Db; config: Config; secrets: Secrets; mountPath: string;
  /** The console's sign-in form shares every form's limits and count (app.ts). */
  loginThrottle: LoginThrottle;
  /** Makes this process sign with the current key set now (others follow within KEY_REFRESH_SECONDS). */
  refreshSigningKeys: () => Promise<unknown>;
}

/** The admin behind a request that passed `page` or `api`: who they are for the audit trail. */
export interface AdminRequest { actor: AdminActor; email: string | undefined }
export const adminOf = (ctx: Koa.Context) => ctx.state.admin as AdminRequest;

export type AdminHandler = (ctx: Koa.Context, admin: AdminRequest) => Promise<void>;
type Method = 'get' | 'post' | 'put' | 'delete';

export interface AdminRoutes {
  /** A console page or form action: admins only (anonymous → the sign-in page, others → 403). */
  page(method: 'get' | 'post', path: string, handler: AdminHandler): void;
  /** A JSON API route: admin API bearer tokens only; JSON errors with stable codes. */
  api(method: Method, path: string, handler: AdminHandler): void;
}

// Admin pages show accounts and the audit trail: never cached, by the browser or anything between.
const noStore: Koa.Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  await next();
};

export function registerAdminRoutes(router: Router, deps: AdminDeps): void {
  const pageGate = requireAdminPage(deps);
  const apiGate = requireAdminToken(deps.db);
  // The API takes JSON only; it is outside the CSRF-protected paths (it never reads a cookie).
  const json = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' });
  const routes: AdminRoutes = {
    page(method, path, handler) {
      router[method](`/admin${path}`, noStore, pageGate, (ctx) => handler(ctx, adminOf(ctx)));
    },
    api(method, path, handler) {
      router[method](`/admin/api${path}`, noStore, apiErrors(), apiGate, json, (ctx) => handler(ctx, adminOf(ctx)));
    },
  };
  registerConsoleSignIn(router, deps, noStore);
  registerConsolePages(routes, deps);
  registerConsoleResourcePages(routes, deps);
  registerAdminApiRoutes(routes, deps);
}
