// Resources through the console and the admin API, end to end: register with the live metadata check
// shown inline, edit, disable and restrict to listed clients, each enforced at /auth and /token
// (invalid_target) and recorded in the audit trail with the admin as actor.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeQuery, clientRedirectOf, pkcePair, refresh, registerClient } from '../helpers/oauth-flow.ts';
import { connectClient } from '../helpers/portal.ts';
import { ISSUER, notesResource } from '../helpers/test-app.ts';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from './helpers.ts';

let app: AdminTestApp;
let mcp: Server;
let mcpOrigin: string;

/** The audit events of one type, newest first. */
const eventsOf = async (type: string) =>
  (await app.db.query<{ resource: string; details: Record<string, unknown> }>(
    'SELECT resource, details FROM audit_events WHERE event_type = $1 ORDER BY id DESC', [type])).rows;

/** The error an authorization request for `resource` by `clientId` ends in (invalid_target comes back on the redirect). */
async function authorizeError(clientId: string, resource: string) {
  const response = await app.browser().get(authorizeQuery({
    clientId, resource, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
  }));
  // A self-registered client: the error waits on the leaving page (src/oidc/leaving-interstitial.ts).
  return clientRedirectOf(response).searchParams.get('error');
}

beforeAll(async () => {
  // The MCP server below listens on loopback: the development allowance metadata documents use too.
  app = await createAdminTestApp({ CIMD_ALLOW_LOOPBACK: 'true' });
  // An MCP server whose metadata names the resource with a trailing slash: the check must say so.
  mcp = createServer((req, res) => {
    if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ resource: `${mcpOrigin}/mcp/`, authorization_servers: [ISSUER], scopes_supported: ['notes:read'] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => mcp.listen(0, '127.0.0.1', resolve));
  mcpOrigin = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => mcp?.close(resolve));
});

describe('registering a resource', () => {
  it('through the console form: stored, audited with the admin as actor, and its live metadata check shown inline', async () => {
    const browser = await app.adminBrowser();
    const posted = await postConsoleForm(browser, '/admin/resources', {
      uri: `${mcpOrigin}/mcp`, name: 'Local notes', ttl: '120', token_format: 'jwt', client_access: 'any', check: 'on',
      scope_0: 'notes:read', risk_0: 'read', description_0: 'Read your notes', scope_1: 'notes:write', risk_1: 'write', scope_2: '',
    });
    const page = await followConsole(browser, posted);
    expect(page.text).toContain('Resource registered.');
    expect(page.text).toContain('Metadata check: 1 problem');
    expect(page.text).toContain('by a trailing slash');

    const listed = await app.api().get('/admin/api/resources');
    const resource = listed.body.resources.find((r: { uri: string }) => r.uri === `${mcpOrigin}/mcp`);
    expect(resource).toMatchObject({
      name: 'Local notes', access_token_ttl_seconds: 120, client_access: 'any', status: 'active',
      scopes: [{ scope: 'notes:read', risk: 'read', description: 'Read your notes' }, { scope: 'notes:write', risk: 'write', description: '' }],
      last_check: { status: 'checked', metadata_url: `${mcpOrigin}/.well-known/oauth-protected-resource/mcp` },
    });
    const [event] = await eventsOf('resource.registered');
    expect(event).toMatchObject({ resource: `${mcpOrigin}/mcp`, details: { actor: app.admin.id, via: 'console' } });
  });

  it('shows the form again with the reason when the input is refused (400), and registers nothing', async () => {
    const browser = await app.adminBrowser();
    const refused = await postConsoleForm(browser, '/admin/resources', {
      uri: 'ftp://files.example.com/mcp', name: 'Bad', client_access: 'any', scope_0: 'a', risk_0: 'read',
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('resource must be an http or https URI');
    expect(refused.text).toContain('value="ftp://files.example.com/mcp"');
    const { rowCount } = await app.db.query(`SELECT 1 FROM resources WHERE uri LIKE 'ftp:%'`);
    expect(rowCount).toBe(0);
  });

  it('through the API: 201, 409 for the same URI, 400 with the field for bad input', async () => {
    const body = { uri: 'https://api-made.example.com/mcp', name: 'API made', scopes: [{ scope: 'a:read', risk: 'read' }], check: false };
    const created = await app.api().post('/admin/api/resources').send(body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ resource: { uri: body.uri, status: 'active', client_access: 'any' }, check: { status: 'skipped', metadata_url: null } });
    const again = await app.api().post('/admin/api/resources').send({ ...body, uri: 'HTTPS://API-MADE.example.com/mcp/' });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('resource_exists');
    for (const [bad, mentions] of [
      [{ ...body, uri: 'https://x.example.com', access_token_ttl_seconds: 5 }, 'accessTokenTtlSeconds'],
      [{ ...body, uri: 'https://x.example.com', scopes: [{ scope: 'a', risk: 'dangerous' }] }, 'scopes.0.risk'],
      [{ ...body, uri: 'https://x.example.com', surprise: true }, 'surprise'],
      [{ ...body, uri: 'https://x.example.com', scopes: [] }, 'declare at least one scope'],
      [{ ...body, uri: 'https://x.example.com/mcp?tenant=a' }, 'resource must not contain a query'],
    ] as const) {
      const response = await app.api().post('/admin/api/resources').send(bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.error_description).toContain(mentions);
    }
    const { rowCount: withQuery } = await app.db.query(`SELECT 1 FROM resources WHERE uri LIKE '%?%'`);
    expect(withQuery).toBe(0);
    const notJson = await app.api().post('/admin/api/resources').type('json').send('{"uri": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBe('invalid_request');
  });
});

describe('editing, disabling and listing clients', () => {
  it('a listed-clients resource refuses every other client with invalid_target, at /auth and on refresh', async () => {
    const uri = 'https://listed.example.com/mcp';
    await app.addResource(notesResource(uri));
    const user = app.browser();
    const kept = await connectClient(app, user, app.user.email, { resource: uri, scope: 'notes:read' });
    const dropped = await connectClient(app, user, app.user.email, { resource: uri, scope: 'notes:read' });
    const outsider = await registerClient(app);

    const edited = await app.api().put(`/admin/api/resources/${encodeURIComponent(uri)}`).send({
      name: 'Listed notes', scopes: [{ scope: 'notes:read', risk: 'read' }], access_token_ttl_seconds: 600,
      allowed_clients: [kept.clientId], check: false,
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.resource).toMatchObject({ name: 'Listed notes', client_access: 'listed', allowed_clients: [kept.clientId], access_token_ttl_seconds: 600 });
    const [changed] = await eventsOf('resource.changed');
    expect(changed!.details).toMatchObject({ actor: expect.stringMatching(/^admin_token:/), via: 'api', after: { allowed_clients: [kept.clientId] } });

    await new Promise((resolve) => setTimeout(resolve, 2100)); // the resource directory's cache (2 s)
    expect(await authorizeError(outsider.client_id, uri)).toBe('invalid_target');
    const refused = await refresh(app, { client_id: dropped.clientId, refresh_token: dropped.refreshToken });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');
    const allowed = await refresh(app, { client_id: kept.clientId, refresh_token: kept.refreshToken });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    expect(allowed.body.expires_in).toBe(600);
  });

  it('disabling through the console refuses new tokens (invalid_target); enabling lets them through again', async () => {
    const uri = 'https://disabled.example.com/mcp';
    await app.addResource(notesResource(uri));
    const connected = await connectClient(app, app.browser(), app.user.email, { resource: uri, scope: 'notes:read' });
    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/resources/disable', { uri }));
    expect(page.text).toContain('Resource disabled');
    expect((await eventsOf('resource.disabled'))[0]).toMatchObject({ resource: uri, details: { actor: app.admin.id } });

    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await authorizeError(connected.clientId, uri)).toBe('invalid_target');
    const refused = await refresh(app, { client_id: connected.clientId, refresh_token: connected.refreshToken });
    expect(refused.body).toMatchObject({ error: 'invalid_target' });

    await postConsoleForm(browser, '/admin/resources/enable', { uri });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const again = await refresh(app, { client_id: connected.clientId, refresh_token: connected.refreshToken });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
  });

  it('edits through the console form keep the URI and replace the scopes', async () => {
    const uri = 'https://edited.example.com/mcp';
    await app.addResource(notesResource(uri));
    const browser = await app.adminBrowser();
    const form = await browser.get(`/admin/resources/edit?uri=${encodeURIComponent(uri)}`);
    expect(form.text).toContain('value="notes:delete"');
    const saved = await postConsoleForm(browser, '/admin/resources/update', {
      uri, name: 'Edited notes', ttl: '', token_format: 'opaque', client_access: 'any',
      scope_0: 'notes:read', risk_0: 'read', scope_1: 'notes:write', risk_1: 'irreversible', scope_2: '',
    });
    expect((await followConsole(browser, saved)).text).toContain('Changes saved.');
    const { body } = await app.api().get('/admin/api/resources');
    expect(body.resources.find((r: { uri: string }) => r.uri === uri)).toMatchObject({
      name: 'Edited notes', access_token_format: 'opaque', access_token_ttl_seconds: 300,
      scopes: [{ scope: 'notes:read', risk: 'read' }, { scope: 'notes:write', risk: 'irreversible' }],
    });
    expect((await app.api().post(`/admin/api/resources/${encodeURIComponent('https://nope.example.com')}/disable`)).body.error).toBe('resource_not_found');
  });
});
