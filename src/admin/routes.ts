// The operator console (/admin) and the admin JSON API (/admin/api) on the app's router. Every route
// is registered through `page` or `api` below, so none can exist without its admin check.
import type Router from '@koa/router';
import type Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { apiErrors, requireAdminToken } from './api-auth.ts';
import { registerAdminApiRoutes } from './api-routes.ts';
import { registerAdminApiToolRoutes } from './api-tool-routes.ts';
import { registerConsoleSignIn, requireAdminPage } from './console-auth.ts';
import { registerClientDiagnostics } from './console-diagnostics.ts';
import { registerConsoleClientPages } from './console-clients.ts';
import { registerConsolePages } from './console-pages.ts';
import { registerConsoleResourcePages } from './console-resources.ts';
import { registerConsoleIdentityProviderPages } from './console-identity-providers.ts';
import { registerConsolePolicyPages } from './console-policies.ts';
import { registerConsoleToolPages } from './console-tools.ts';
import { adminOf, type AdminDeps, type AdminRoutes } from './route-contract.ts';

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
  registerConsoleClientPages(routes, deps);
  registerConsoleResourcePages(routes, deps);
  registerConsoleIdentityProviderPages(routes, deps);
  registerConsolePolicyPages(routes, deps);
  registerConsoleToolPages(routes, deps);
  registerClientDiagnostics(routes, deps);
  registerAdminApiRoutes(routes, deps);
  registerAdminApiToolRoutes(routes, deps);
}
