// Who may use the console and the admin API, over every route the admin module registers: anonymous
// browsers are sent to sign in, signed-in non-admins get 403, and the API takes admin tokens only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeAdminApiToken, createAdminApiToken } from '../../src/admin-tokens/store.ts';
import { listSigningKeys } from '../../src/oidc/keys-lifecycle.ts';
import { registerClient } from '../helpers/oauth-flow.ts';
import { notesResource } from '../helpers/test-app.ts';
import {
  concretePath, createAdminTestApp, csrfFor, postConsoleForm, registeredAdminRoutes, signInToConsole, type AdminRoute, type AdminTestApp,
} from './helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
const PUBLIC = new Set(['GET /admin/login', 'POST /admin/login', 'POST /admin/logout']);
let app: AdminTestApp;
let routes: AdminRoute[];
let ids: { uri: string; clientId: string; accountId: string; kid: string };

/** What the admin module would change if a check were missing: compared before and after each attack. */
async function snapshot() {
  const { rows } = await app.db.query<{ state: string }>(
    `SELECT json_build_object(
       'resources', (SELECT json_agg(json_build_array(uri, name, disabled_at, client_access) ORDER BY uri) FROM resources),
       'accounts', (SELECT json_agg(json_build_array(id, disabled_at, password_hash, is_admin) ORDER BY id) FROM accounts),
       'clients', (SELECT json_agg(json_build_array(model, id) ORDER BY id) FROM oidc_models WHERE model IN ('Client', 'DisabledClient')),
       'keys', (SELECT json_agg(json_build_array(kid, retired_at) ORDER BY kid) FROM signing_keys),
       'admin_events', (SELECT count(*) FROM audit_events WHERE details ? 'via'))::text AS state`);
  return rows[0]!.state;
}

function send(agent: ReturnType<AdminTestApp['browser']>, route: AdminRoute, body: Record<string, string> = {}) {
  const path = concretePath(route.path, ids);
  const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
  const request = agent[method](path);
  return route.method === 'GET' ? request : request.type(route.api ? 'json' : 'form').send(body);
}

// Form fields a real attack would send, so a missing check would have something to act on.
const formFor = (csrf: string) => ({
  csrf, uri: NOTES, client_id: ids.clientId, account_id: ids.accountId, kid: ids.kid, name: 'Hijacked', scope_0: 'x:y', risk_0: 'read',
  email: 'intruder@example.com', password: 'a long enough password', force: 'on', now: 'on',
});

beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
  const client = await registerClient(app);
  const keys = await listSigningKeys(app.db);
  ids = { uri: NOTES, clientId: client.client_id, accountId: app.user.id, kid: keys[0]!.kid };
  routes = registeredAdminRoutes(app);
});
afterAll(async () => { await app?.close(); });

describe('the route table', () => {
  it('covers the console pages and the API', () => {
    const pages = routes.filter((r) => !r.api && !PUBLIC.has(`${r.method} ${r.path}`));
    const api = routes.filter((r) => r.api);
    expect(pages.length).toBeGreaterThanOrEqual(20);
    expect(api.length).toBeGreaterThanOrEqual(20);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(
      ['GET /admin', 'GET /admin/audit', 'POST /admin/users/disable', 'POST /admin/api/keys/rotate', 'DELETE /admin/api/clients/:id']));
    // Nothing of the admin module lives outside /admin.
    expect(routes.every((r) => r.path === '/admin' || r.path.startsWith('/admin/'))).toBe(true);
  });
});

describe('an anonymous caller', () => {
  it('is sent to the sign-in page from every console route, and changes nothing', async () => {
    const browser = app.browser();
    const csrf = await csrfFor(browser);
    const before = await snapshot();
    for (const route of routes.filter((r) => !r.api && !PUBLIC.has(`${r.method} ${r.path}`))) {
      const response = await send(browser, route, formFor(csrf));
      expect(response.status, `${route.method} ${route.path}`).toBe(303);
      expect(response.headers.location, `${route.method} ${route.path}`).toBe('/admin/login');
      expect(response.text).not.toContain(NOTES);
    }
    expect(await snapshot()).toBe(before);
  });

  it('gets 401 with a Bearer challenge from every API route, and changes nothing', async () => {
    const before = await snapshot();
    for (const route of routes.filter((r) => r.api)) {
      const response = await send(app.http(), route, {});
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="portcullis-admin"');
      expect(response.body.error).toBe('invalid_token');
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('a signed-in user who is not an admin', () => {
  it('gets 403 on every console route, and the page shows nothing of the console', async () => {
    const browser = app.browser();
    // Signed in through the portal: the same session the console reads.
    const csrf = await csrfFor(browser);
    expect((await browser.post('/account/login').type('form').send({ email: app.user.email, password: 'correct horse battery staple', csrf })).status).toBe(303);
    const before = await snapshot();
    for (const route of routes.filter((r) => !r.api && !PUBLIC.has(`${r.method} ${r.path}`))) {
      const response = await send(browser, route, formFor(csrf));
      expect(response.status, `${route.method} ${route.path}`).toBe(403);
      expect(response.text).toContain('This page is for the administrators of this server.');
      for (const secret of [NOTES, app.admin.email, ids.clientId, 'Audit log']) expect(response.text).not.toContain(secret);
    }
    expect(await snapshot()).toBe(before);
  });

  it('cannot use their session cookie on the API (401): only admin tokens open it', async () => {
    const browser = app.browser();
    const csrf = await csrfFor(browser);
    await browser.post('/account/login').type('form').send({ email: app.user.email, password: 'correct horse battery staple', csrf });
    for (const route of routes.filter((r) => r.api)) {
      expect((await send(browser, route, {})).status, `${route.method} ${route.path}`).toBe(401);
    }
  });

  it('is refused at the console sign-in with the right password: no session, and the attempt is audited', async () => {
    const browser = app.browser();
    const response = await signInToConsole(browser, app.user.email);
    expect(response.status).toBe(403);
    expect((await browser.get('/account')).text).toContain('name="password"');
    const { rows } = await app.db.query<{ account_id: string }>(
      `SELECT account_id FROM audit_events WHERE event_type = 'admin.action' AND outcome = 'failure' AND details->>'reason' = 'not_admin'`);
    expect(rows.map((r) => r.account_id)).toContain(app.user.id);
  });
});

describe('signing out of the console', () => {
  it('ends the session (the console asks to sign in again) and is audited as session.ended by the admin', async () => {
    const browser = await app.adminBrowser();
    expect((await browser.get('/admin')).status).toBe(200);
    const out = await postConsoleForm(browser, '/admin/logout');
    expect(out.status).toBe(303);
    expect(out.headers.location).toMatch(/\/admin\/login\?status=signed-out$/);
    expect((await browser.get('/admin')).headers.location).toMatch(/\/admin\/login$/);
    const { rows } = await app.db.query<{ actor_type: string; account_id: string; via: string }>(
      `SELECT actor_type, account_id, details->>'via' AS via FROM audit_events WHERE event_type = 'session.ended' AND details->>'via' = 'admin'`);
    expect(rows).toEqual([{ actor_type: 'user', account_id: app.admin.id, via: 'admin' }]);
  });
});

describe('the admin API', () => {
  it('refuses an admin\'s console session without a token, and a wrong, malformed or revoked token', async () => {
    const adminBrowser = await app.adminBrowser();
    expect((await adminBrowser.get('/admin')).status).toBe(200);
    expect((await adminBrowser.get('/admin/api/users')).status).toBe(401);

    const { token, record } = await createAdminApiToken(app.db, 'short-lived');
    const withToken = (value: string) => app.http().get('/admin/api/users').set('Authorization', value);
    expect((await withToken(`Bearer ${token}`)).status).toBe(200);
    for (const wrong of [`Bearer ${token.slice(0, -1)}x`, `Basic ${token}`, `Bearer ${token} extra`, 'Bearer', `bearer ${app.token}x`]) {
      const response = await withToken(wrong);
      expect(response.status, wrong).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="portcullis-admin", error="invalid_token"');
    }
    await revokeAdminApiToken(app.db, record.id);
    expect((await withToken(`Bearer ${token}`)).status).toBe(401);
    // Stored only as a digest.
    const { rows } = await app.db.query<{ token_digest: string }>('SELECT token_digest FROM admin_api_tokens WHERE id = $1', [record.id]);
    expect(rows[0]!.token_digest).toMatch(/^sha256:/);
    expect(rows[0]!.token_digest).not.toContain(token.slice(6));
  });
});

describe('CSRF on every console form', () => {
  it('refuses a POST without the form\'s token, or from another site, with 403, and changes nothing', async () => {
    const browser = await app.adminBrowser();
    const csrf = await csrfFor(browser);
    const before = await snapshot();
    const forms = routes.filter((r) => !r.api && r.method === 'POST' && r.path !== '/admin/login');
    expect(forms.length).toBeGreaterThanOrEqual(15);
    for (const route of [...forms, { method: 'POST', path: '/admin/login', api: false } as AdminRoute]) {
      const { csrf: _, ...withoutToken } = formFor(csrf);
      const forged = await send(browser, route, withoutToken);
      expect(forged.status, `${route.path} without token`).toBe(403);
      expect(forged.text).toContain('invalid_csrf_token');
      const crossSite = await send(browser, route, formFor(csrf)).set('Origin', 'https://evil.example').set('Sec-Fetch-Site', 'cross-site');
      expect(crossSite.status, `${route.path} cross-site`).toBe(403);
      expect(crossSite.text).toContain('cross_site_request');
    }
    expect(await snapshot()).toBe(before);
    // The admin is still signed in and nothing was done on their behalf.
    expect((await browser.get('/admin')).status).toBe(200);
  });
});
