// The operator console in real headless Chromium: an admin signs in, reads the overview's charts,
// registers a resource (its live metadata check shown inline) and makes it DPoP-required, creates a user, rotates keys and
// filters the audit log; no Content-Security-Policy violation on any page. Saves a screenshot of each.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { addAccount } from '../../src/accounts/store.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openPage, reachConsent, saveScreenshot, signInOnPage, startCallbackServer,
  type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES = 'https://notes.example.com/mcp';
let browser: Browser;
let app: LiveTestApp;
let callbacks: CallbackServer;
let mcp: Server;
let mcpOrigin: string;
let adminEmail: string;

/** Thirty days of plausible history (oldest first, as the trail appends), so the charts show what an operator would see on a live server. */
async function seedHistory(clientId: string): Promise<void> {
  await app.db.query(
    `INSERT INTO audit_events (occurred_at, event_type, outcome, client_id, resource, details)
     SELECT now() - make_interval(hours => h) - interval '7 minutes', t.type, t.outcome, $1, $2, '{"seeded": true}'::jsonb
     FROM generate_series(719, 0, -1) AS h,
          LATERAL (VALUES ('token.issued', 'success', 6 + (h * 7) % 11), ('consent.granted', 'success', (h % 9 = 0)::int),
                          ('consent.denied', 'success', (h % 31 = 0)::int), ('login.failed', 'failure', (h % 17 = 0)::int * 2),
                          ('refresh_token.replay_detected', 'failure', (h = 30)::int)) AS t(type, outcome, n),
          generate_series(1, t.n)`,
    [clientId, NOTES],
  );
}

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp({ CIMD_ALLOW_LOOPBACK: 'true' }); // the MCP server below is on loopback
  callbacks = await startCallbackServer();
  await app.addResource(notesResource(NOTES));
  adminEmail = (await addAccount(app.db, { email: 'ops@example.com', password: PASSWORD, isAdmin: true })).email;
  const person = await app.addUser('alice@example.com');
  // A real client with a real grant: the clients page has something to show.
  const client = await McpClient.register(app.issuer, callbacks.redirectUri, 'Claude Desktop');
  await seedHistory(client.clientId);
  const request = client.authorization(NOTES, 'notes:read');
  const page = await openPage(browser);
  await reachConsent(page, request.url, person.email);
  const delivered = callbacks.next();
  await page.getByRole('button', { name: 'Allow checked' }).click();
  await client.redeem(await delivered, request);
  await page.context().close();
  await McpClient.register(app.issuer, callbacks.redirectUri, 'Unused test client');
  mcp = createServer((req, res) => {
    res.writeHead(req.url === '/.well-known/oauth-protected-resource/mcp' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ resource: `${mcpOrigin}/mcp`, authorization_servers: [app.issuer], scopes_supported: ['calendar:read'] }));
  });
  await new Promise<void>((resolve) => mcp.listen(0, '127.0.0.1', resolve));
  mcpOrigin = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}`;
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await callbacks?.close();
  await app?.close();
  await new Promise((resolve) => mcp?.close(resolve));
});

/** Collects CSP violations the page reports (an inline style or script would be one). */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) seen.push(message.text()); });
  return seen;
}

describe('the operator console in a real browser', () => {
  it('signs an admin in and shows every page, each saved as a screenshot', async () => {
    const page = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    const violations = cspViolations(page);
    await page.goto(`${app.issuer}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await signInOnPage(page, adminEmail);
    expect(new URL(page.url()).pathname).toBe('/admin');

    // Overview: ten charts, the figures from the audit trail.
    expect(await page.locator('svg.chart').count()).toBe(10);
    expect(await page.locator('#metric-tokens_issued ~ .metric-period strong').first().textContent()).not.toBe('0');
    expect(await page.getByRole('heading', { name: 'Clients that need attention' }).isVisible()).toBe(true);
    await saveScreenshot(page, 'admin-overview.png');

    // Resources: register one through the form; the check runs and is shown beside it.
    await page.getByRole('link', { name: 'Resources', exact: true }).click();
    await page.getByRole('link', { name: 'Register a resource' }).click();
    await page.getByLabel('Resource URI').fill(`${mcpOrigin}/mcp`);
    await page.getByLabel('Name', { exact: true }).fill('Team calendar');
    await page.getByLabel('Scope 1', { exact: true }).fill('calendar:read');
    await page.getByLabel('Description of scope 1').fill('See your calendar');
    await page.getByLabel('Scope 2', { exact: true }).fill('calendar:write');
    await page.getByLabel('Risk of scope 2').selectOption('write');
    await page.getByLabel('Description of scope 2').fill('Create and move events');
    await Promise.all([page.waitForURL(/status=resource-registered/), page.getByRole('button', { name: 'Register resource' }).click()]);
    const registered = page.locator('article.resource', { hasText: 'Team calendar' });
    expect(await registered.locator('.check-title').textContent()).toContain('Metadata matches this registration');
    expect(await page.locator('article.resource', { hasText: 'Notes MCP' }).locator('.check-title').textContent()).toContain('never checked');
    await saveScreenshot(page, 'admin-resources.png');

    // Edit it to DPoP-required (RFC 9449): the form keeps the choice, the list and the database show it.
    await registered.getByRole('link', { name: /^Edit/ }).click();
    expect(await page.getByLabel('Sender-constrained tokens (DPoP)').inputValue()).toBe('allowed');
    await page.getByLabel('Sender-constrained tokens (DPoP)').selectOption('required');
    await saveScreenshot(page, 'admin-resource-dpop.png');
    await Promise.all([page.waitForURL(/status=resource-saved/), page.getByRole('button', { name: 'Save changes' }).click()]);
    expect(await page.locator('article.resource', { hasText: 'Team calendar' }).locator('dd', { hasText: 'DPoP-bound tokens only' }).count()).toBe(1);
    const stored = await app.db.query<{ dpop: string }>('SELECT dpop FROM resources WHERE uri = $1', [`${mcpOrigin}/mcp`]);
    expect(stored.rows).toEqual([{ dpop: 'required' }]);

    await page.getByRole('link', { name: 'Clients', exact: true }).click();
    expect(await page.locator('tr', { hasText: 'Claude Desktop' }).locator('.flag').textContent()).toContain('1 replayed credential');
    await saveScreenshot(page, 'admin-clients.png');

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByLabel('Email').fill('bob@example.com');
    await page.getByLabel('Password', { exact: true }).fill('a long passphrase');
    await Promise.all([page.waitForURL(/status=user-created/), page.getByRole('button', { name: 'Create account' }).click()]);
    expect(await page.locator('tr', { hasText: 'bob@example.com' }).count()).toBe(1);
    await saveScreenshot(page, 'admin-users.png');

    await page.getByRole('link', { name: 'Signing keys', exact: true }).click();
    await Promise.all([page.waitForURL(/status=keys-rotated/), page.getByRole('button', { name: 'Rotate keys' }).click()]);
    // Published ahead of signing (KEY_PUBLISH_AHEAD_SECONDS): the new keys are pending, the old ones still sign.
    expect(await page.locator('.pill', { hasText: 'Pending' }).count()).toBe(3);
    expect(await page.locator('.pill', { hasText: 'Signing' }).count()).toBe(3);
    await saveScreenshot(page, 'admin-keys.png');

    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByLabel('Event type').selectOption('keys.rotated');
    await Promise.all([page.waitForURL(/type=keys.rotated/), page.getByRole('button', { name: 'Filter' }).click()]);
    expect(await page.locator('table.audit tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: 'Clear' }).click();
    expect(await page.locator('table.audit tbody tr').count()).toBe(25);
    await saveScreenshot(page, 'admin-audit.png');

    expect(violations).toEqual([]);
  }, 180_000);

  it('shows a signed-in person who is not an admin a 403 page with nothing of the console', async () => {
    const page = await openPage(browser);
    await page.goto(`${app.issuer}/account`);
    await signInOnPage(page, 'alice@example.com');
    const response = await page.goto(`${app.issuer}/admin/users`);
    expect(response?.status()).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Not allowed');
    expect(await page.content()).not.toContain('ops@example.com');
  });
});
