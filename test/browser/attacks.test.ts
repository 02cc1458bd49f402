// Attacks a real browser makes possible, tried in headless Chromium: a client whose name is markup,
// and another website's page that auto-submits a consent (or a revoke) in the victim's signed-in browser.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { notesResource } from '../helpers/test-app.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openPage, reachConsent, signInOnPage, startCallbackServer,
  type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES = 'https://mcp.example.com/mcp';
const XSS_NAME = '<script>alert(1)</script><img src=x onerror=alert(2)>';
let browser: Browser;
let app: LiveTestApp;
let callbacks: CallbackServer;
let email: string;
// The attacker's site: another origin (127.0.0.1 vs localhost, so cross-site) serving whatever page a test sets.
let attacker: Server;
let attackerOrigin: string;
let attackerPage = '';

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  email = (await app.addUser()).email;
  callbacks = await startCallbackServer();
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackerPage));
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  attacker?.closeAllConnections();
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  await callbacks?.close();
  await app?.close();
});

/** An attacker page whose inline script (the attacker's own, on the attacker's site) posts a form to us at once. */
function autoSubmittingForm(action: string, fields: [string, string][]): string {
  const inputs = fields.map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`).join('');
  return `<!doctype html><title>You won a prize</title><form method="post" action="${action}">${inputs}</form>`
    + '<script>document.forms[0].submit()</script>';
}

/** Opens the attacker's page in the victim's browser and returns our server's answer to the forged POST. */
async function visitAttacker(page: Page, targetPath: string) {
  const answered = page.waitForResponse((response) => response.url() === `${app.issuer}${targetPath}`);
  await page.goto(attackerOrigin);
  const response = await answered;
  await page.waitForLoadState();
  return response;
}

const rowsFor = async (clientId: string, models: string[]) => (await app.db.query(
  `SELECT model FROM oidc_models WHERE model = ANY($1::text[]) AND payload->>'clientId' = $2`, [models, clientId])).rows;

describe('a client named with markup', () => {
  it('shows the name as literal text on sign-in, consent and the portal, and no script runs', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri, XSS_NAME);
    const page = await openPage(browser);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const request = client.authorization(NOTES, 'notes:read');
    await page.goto(request.url);
    // Injected markup would become elements (and disappear from the visible text): both are checked.
    const expectLiteral = async () => {
      expect(await page.locator('main').innerText()).toContain(XSS_NAME);
      expect(await page.locator('script, img').count()).toBe(0);
    };
    await expectLiteral();
    await signInOnPage(page, email);
    await expectLiteral();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(`Allow ${XSS_NAME} to act for you?`);
    const delivered = callbacks.next();
    await page.getByRole('button', { name: 'Allow checked' }).click();
    await client.redeem(await delivered, request);
    await page.goto(`${app.issuer}/account`);
    expect(await page.getByRole('heading', { level: 3 }).innerText()).toBe(XSS_NAME);
    await expectLiteral();
    expect(dialogs).toEqual([]);
    await page.context().close();
  });
});

describe('a forged cross-site POST', () => {
  it('to the consent form lands on a 403 page; no grant or code is issued, and the honest answer still works', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const request = client.authorization(NOTES, 'notes:read notes:write');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email);
    const interactionPath = new URL(page.url()).pathname;
    // The victim is signed in and has the consent page open in another tab; the attacker knows the uid.
    attackerPage = autoSubmittingForm(`${app.issuer}${interactionPath}/confirm`,
      [['decision', 'approve'], ['scope', 'notes:read'], ['scope', 'notes:write']]);
    const callbacksBefore = callbacks.received.length;

    const forged = await visitAttacker(page, `${interactionPath}/confirm`);
    expect(forged.status()).toBe(403);
    expect(page.url()).toBe(`${app.issuer}${interactionPath}/confirm`);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('This form was not accepted');
    expect(await page.locator('.error-code').innerText()).toContain('cross_site_request');
    expect(callbacks.received.length).toBe(callbacksBefore);
    expect(await rowsFor(client.clientId, ['Grant', 'AuthorizationCode'])).toEqual([]);

    // The refusal changed nothing: the person can still answer the real page, with the real defaults.
    await page.goto(`${app.issuer}${interactionPath}`);
    const delivered = callbacks.next();
    await page.getByRole('button', { name: 'Allow checked' }).click();
    const tokens = await client.redeem(await delivered, request);
    expect(tokens.scope).toBe('notes:read');
    await page.context().close();
  });

  it('to the portal Revoke button is refused and the grant keeps working', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const request = client.authorization(NOTES, 'notes:read');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email);
    const delivered = callbacks.next();
    await page.getByRole('button', { name: 'Allow checked' }).click();
    const tokens = await client.redeem(await delivered, request);
    const { rows: grants } = await app.db.query<{ id: string }>(
      `SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [client.clientId]);
    expect(grants).toHaveLength(1);
    const grantId = grants[0]!.id;

    attackerPage = autoSubmittingForm(`${app.issuer}/account/grants/revoke`, [['grant_id', grantId]]);
    const forged = await visitAttacker(page, '/account/grants/revoke');
    expect(forged.status()).toBe(403);
    expect(await page.locator('.error-code').innerText()).toContain('cross_site_request');
    expect(await rowsFor(client.clientId, ['Grant'])).toHaveLength(1);
    const refreshed = await client.refresh(tokens.refresh_token!);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    await page.context().close();
  });
});
