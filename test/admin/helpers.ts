// Drives the operator console and admin API as an admin's browser and a script would: an app with an
// admin and a normal user, signing in through /admin/login, forms with their CSRF field, API tokens.
import Router from '@koa/router';
import type TestAgent from 'supertest/lib/agent.js';
import { expect } from 'vitest';
import { createAdminApiToken } from '../../src/admin-tokens/store.ts';
import { registerAdminRoutes } from '../../src/admin/routes.ts';
import { databaseLoginAttempts } from '../../src/accounts/login-throttle-sql.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { csrfTokenOf, pathOf } from '../helpers/oauth-flow.ts';
import { createTestApp, PASSWORD, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';

export interface AdminTestApp extends TestApp {
  admin: { id: string; email: string };
  user: { id: string; email: string };
  /** A live admin API token. */
  token: string;
  /** A browser signed in to the console as the admin. */
  adminBrowser(): Promise<TestAgent>;
  /** `Authorization: Bearer` for the API. */
  api(): { get: (p: string) => ReturnType<TestAgent['get']>; post: (p: string) => ReturnType<TestAgent['post']>; put: (p: string) => ReturnType<TestAgent['put']>; delete: (p: string) => ReturnType<TestAgent['delete']> };
}

export async function createAdminTestApp(environment: Record<string, string> = {}): Promise<AdminTestApp> {
  const app = await createTestApp(environment);
  const admin = await addAccount(app.db, { email: `admin-${Math.random().toString(36).slice(2)}@example.com`, password: PASSWORD, isAdmin: true });
  const user = await app.addUser();
  const { token } = await createAdminApiToken(app.db, 'tests');
  const withToken = (agent: TestAgent) => ({
    get: (p: string) => agent.get(p).set('Authorization', `Bearer ${token}`),
    post: (p: string) => agent.post(p).set('Authorization', `Bearer ${token}`),
    put: (p: string) => agent.put(p).set('Authorization', `Bearer ${token}`),
    delete: (p: string) => agent.delete(p).set('Authorization', `Bearer ${token}`),
  });
  return {
    ...app,
    admin: { id: admin.id, email: admin.email },
    user: { id: user.id, email: user.email },
    token,
    async adminBrowser() {
      const browser = app.browser();
      const response = await signInToConsole(browser, admin.email);
      expect(response.status, response.text).toBe(303);
      expect(response.headers.location).toBe('/admin');
      return browser;
    },
    api: () => withToken(app.http()),
  };
}

/** The CSRF field any of our pages gives this browser (the portal's page always has a form). */
export async function csrfFor(browser: TestAgent): Promise<string> {
  const token = csrfTokenOf((await browser.get('/admin/login')).text) || csrfTokenOf((await browser.get('/account')).text);
  expect(token).not.toBe('');
  return token;
}

export async function signInToConsole(browser: TestAgent, email: string, password = PASSWORD) {
  const csrf = await csrfFor(browser);
  return browser.post('/admin/login').type('form').send({ email, password, csrf });
}

/** POSTs a console form the way its page does (with the CSRF field); `fields` may repeat a name. */
export async function postConsoleForm(browser: TestAgent, path: string, fields: Record<string, string | string[]> = {}) {
  const form = new URLSearchParams({ csrf: await csrfFor(browser) });
  for (const [name, value] of Object.entries(fields)) for (const item of [value].flat()) form.append(name, item);
  return browser.post(path).type('form').send(form.toString());
}

/** Follows a console redirect (303 → GET) and returns the page. */
export async function followConsole(browser: TestAgent, response: { status: number; headers: Record<string, string>; text: string }) {
  expect(response.status, response.text).toBe(303);
  return browser.get(pathOf(response.headers.location!));
}

export interface AdminRoute { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; api: boolean }

/**
 * Every route the admin module registers, read from a router it registered on (not from a list kept by
 * hand): a new route is in this table the moment it exists.
 */
export function registeredAdminRoutes(app: TestApp): AdminRoute[] {
  const router = new Router();
  registerAdminRoutes(router, {
    provider: app.provider, db: app.db, config: app.config, secrets: TEST_SECRETS, mountPath: '', refreshSigningKeys: async () => {},
    loginThrottle: { policy: app.config.loginThrottle, attempts: databaseLoginAttempts(app.db) },
  });
  return router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({
    method: method as AdminRoute['method'], path: layer.path as string, api: (layer.path as string).startsWith('/admin/api/'),
  })));
}

/** Fills a route's parameters with real ids, so a route that forgot its check would act on real data. */
export function concretePath(path: string, ids: { uri: string; clientId: string; accountId: string; kid: string }): string {
  return path.replace(':uri', encodeURIComponent(ids.uri)).replace(':id', encodeURIComponent(path.includes('/users/') ? ids.accountId : ids.clientId))
    .replace(':kid', encodeURIComponent(ids.kid));
}
