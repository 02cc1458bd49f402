// The admin's resource-metadata check (console, admin API, CLI) obeys the address policy of
// metadata-document fetches: private and loopback addresses are refused after DNS resolution (loopback
// only with the development allowance), and what it reports quotes no more of the answer than it checks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkProtectedResourceMetadata } from '../../src/resources/metadata-check.ts';
import { addResource } from '../../src/resources/store.ts';
import { createAdminTestApp, type AdminTestApp } from '../admin/helpers.ts';

const ISSUER = 'http://localhost:4000';
const SECRET = 'internal-secret-' + 'z'.repeat(300);
const servers: Server[] = [];
afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const hits: string[] = [];
  const server = createServer((req, res) => { hits.push(req.url ?? ''); handler(req, res); });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, hits };
}

const check = (resourceUri: string, allowLoopback?: boolean) =>
  checkProtectedResourceMetadata({ resourceUri, issuer: ISSUER, scopes: ['notes:read'], allowLoopback });

describe('the resource-metadata check and the address policy', () => {
  it('refuses loopback by default, by literal address and by a name that resolves to it, without a request', async () => {
    const { port, hits } = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    for (const uri of [`http://127.0.0.1:${port}/mcp`, `http://localhost:${port}/mcp`, `http://[::ffff:127.0.0.1]:${port}/mcp`]) {
      const result = await check(uri);
      expect(result.status, uri).toBe('not_checked');
      expect(result.note, uri).toContain('does not resolve to a public internet address');
    }
    expect(hits).toEqual([]);
  });

  it('refuses private, link-local and cloud-metadata addresses even with the loopback allowance', async () => {
    for (const uri of ['http://10.0.0.1/mcp', 'http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/mcp', 'http://192.168.1.1/mcp']) {
      const result = await check(uri, true);
      expect(result.status, uri).toBe('not_checked');
      expect(result.note, uri).toContain('does not resolve to a public internet address');
    }
  });

  it('with the development allowance, checks a loopback server; reasons and warnings quote no more than the checked fields', async () => {
    const { port, hits } = await serve((req, res) => {
      if (req.url === '/.well-known/oauth-protected-resource/redirect') res.writeHead(302, { location: `http://10.0.0.7/${SECRET}` }).end();
      else if (req.url?.startsWith('/.well-known/oauth-protected-resource/typed')) res.writeHead(200, { 'content-type': `text/${SECRET}` }).end(SECRET);
      else if (req.url !== '/.well-known/oauth-protected-resource/leaky') res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        resource: `http://other.example/${SECRET}`, authorization_servers: [`https://${SECRET}.example`], scopes_supported: [SECRET],
        api_key: SECRET, internal_notes: SECRET,
      }));
    });
    const leaked = await check(`http://127.0.0.1:${port}/leaky`, true);
    expect(leaked.status).toBe('checked');
    expect(leaked.warnings).toHaveLength(3);
    const all = leaked.warnings.join('\n');
    expect(all).toContain('internal-secret-'); // the checked fields are named, shortened…
    expect(all).not.toContain(SECRET); // …never quoted in full
    for (const path of ['redirect', 'typed']) {
      const result = await check(`http://127.0.0.1:${port}/${path}`, true);
      expect(JSON.stringify(result), path).not.toContain(SECRET);
    }
    const redirected = await check(`http://127.0.0.1:${port}/redirect`, true);
    expect(redirected.warnings.join(' ')).toContain('redirects (302)');
    expect(redirected.warnings.join(' ')).not.toContain('10.0.0.7');
    expect(hits.length).toBeGreaterThan(0);
  });
});

describe('the admin API check', () => {
  let app: AdminTestApp | undefined;
  afterEach(async () => { await app?.close(); app = undefined; });

  it('without CIMD_ALLOW_LOOPBACK, a resource on loopback is not fetched: the check says why', async () => {
    const { port, hits } = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    app = await createAdminTestApp();
    const uri = `http://127.0.0.1:${port}/mcp`;
    await addResource(app.db, { uri, name: 'Loopback', scopes: [{ scope: 'notes:read', risk: 'read', description: '' }] }, 300);
    const response = await app.api().post(`/admin/api/resources/${encodeURIComponent(uri)}/check`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.check).toMatchObject({ status: 'not_checked', note: expect.stringContaining('public internet address') });
    expect(hits).toEqual([]);
  });
});
