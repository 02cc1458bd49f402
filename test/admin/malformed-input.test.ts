// Past the doors: an authenticated admin (console with CSRF, API with a token) and a signed-in person
// (/account) send malformed bodies to every state-changing route. Each answer is a 4xx or a redirect
// with a message, never a 5xx.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postAccountForm, signInToPortal } from '../helpers/portal.ts';
import { notesResource } from '../helpers/test-app.ts';
import {
  concretePath, createAdminTestApp, postConsoleForm, registeredAdminRoutes, type AdminTestApp,
} from './helpers.ts';

let app: AdminTestApp;
beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource());
});
afterAll(async () => app?.close());

const ids = { uri: 'https://mcp.example.com/mcp', clientId: 'no-such-client', accountId: 'no-such-account', kid: 'no-such-kid' };
const junkForms: Record<string, string | string[]>[] = [
  {},
  { uri: 'javascript:alert(1)', name: ['a', 'b'], scope: 'x'.repeat(300), ttl: '-1', risk: 'lethal' },
  { email: ['a@example.com', 'b@example.com'], password: 'x', grant_id: ['1', '2'], client_id: '', kid: '%00' },
];
const junkJson = ['{bad json', '[]', 'null', JSON.stringify({ uri: 42, scopes: 'read', email: { a: 1 } }), JSON.stringify({ scopes: [{}] })];

it('no malformed body sent by an authenticated admin or person makes a route answer 5xx', async () => {
  const bad: string[] = [];
  const consoleBrowser = await app.adminBrowser();
  // Signing out goes last, or every form after it would only be redirected to the sign-in page.
  const routes = registeredAdminRoutes(app).filter((route) => route.method !== 'GET')
    .sort((a, b) => Number(a.path.endsWith('/logout')) - Number(b.path.endsWith('/logout')));
  for (const route of routes) {
    const path = concretePath(route.path, ids);
    if (route.api) {
      for (const body of junkJson) {
        const request = route.method === 'POST' ? app.api().post(path) : route.method === 'PUT' ? app.api().put(path) : app.api().delete(path);
        const response = await request.set('Content-Type', 'application/json').send(body);
        if (response.status >= 500) bad.push(`${route.method} ${path} ${body.slice(0, 40)} → ${response.status} ${response.text.slice(0, 120)}`);
      }
    } else {
      for (const fields of junkForms) {
        const response = await postConsoleForm(consoleBrowser, path, fields);
        if (response.status >= 500) bad.push(`${route.method} ${path} form → ${response.status} ${response.text.slice(0, 120)}`);
      }
    }
  }

  const person = app.browser();
  expect((await signInToPortal(person, app.user.email)).status).toBe(303);
  for (const path of ['/account/grants/revoke', '/account/grants/downstream/revoke', '/account/clients/revoke', '/account/login', '/account/sessions/revoke', '/account/logout']) {
    const portalForms: Record<string, string>[] = [{}, { grant_id: 'x'.repeat(5000), client_id: '%ff' }, { email: 'a', password: 'p'.repeat(5000) }];
    for (const fields of portalForms) {
      const response = await postAccountForm(person, path, fields);
      if (response.status >= 500) bad.push(`POST ${path} → ${response.status} ${response.text.slice(0, 120)}`);
    }
  }
  expect(bad, bad.join('\n')).toEqual([]);
});
