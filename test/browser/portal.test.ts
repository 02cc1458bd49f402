// The grants portal in real headless Chromium: a person signs in at /account, sees what a client was
// allowed, revokes it with one click, and the client's refresh token stops working at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { notesResource } from '../helpers/test-app.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openOnPhone, openPage, reachConsent, saveScreenshot, signInOnPage, startCallbackServer,
  type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES = 'https://mcp.example.com/mcp';
let browser: Browser;
let app: LiveTestApp;
let callbacks: CallbackServer;
let email: string;

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  email = (await app.addUser()).email;
  callbacks = await startCallbackServer();
});
afterAll(async () => {
  await browser?.close();
  await callbacks?.close();
  await app?.close();
});

/** A client authorized in its own browser session for read and write; returns the client and its refresh token. */
async function connectClient(name: string) {
  const client = await McpClient.register(app.issuer, callbacks.redirectUri, name);
  const request = client.authorization(NOTES, 'notes:read notes:write');
  const page = await openPage(browser);
  await reachConsent(page, request.url, email);
  await page.getByLabel('Add notes').check();
  const delivered = callbacks.next();
  await page.getByRole('button', { name: 'Allow checked' }).click();
  const tokens = await client.redeem(await delivered, request);
  expect(tokens.scope).toBe('notes:read notes:write');
  await page.context().close();
  return { client, refreshToken: tokens.refresh_token! };
}

describe('the grants portal in a real browser', () => {
  it('asks a new browser to sign in, lists the grant, and Revoke makes the refresh token fail with invalid_grant', async () => {
    const { client, refreshToken } = await connectClient('Portal Notes Agent');
    // The client is honest and working: its refresh token rotates.
    const rotated = await client.refresh(refreshToken);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const currentRefreshToken = String(rotated.body.refresh_token);

    const page = await openPage(browser);
    await page.goto(`${app.issuer}/account`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    await saveScreenshot(page, 'portal-signin.png');
    await signInOnPage(page, email);

    expect(page.url()).toBe(`${app.issuer}/account`);
    const card = page.locator('article.client', { hasText: 'Portal Notes Agent' });
    expect(await card.count()).toBe(1);
    expect(await card.locator('.scopes code').allTextContents()).toEqual(['notes:read', 'notes:write']);
    expect(await card.textContent()).toContain('Notes MCP');
    await saveScreenshot(page, 'portal.png');
    const phone = await openOnPhone(browser, page);
    // On a phone the list stacks: nothing wider than the screen, so Revoke is never off to the side.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.context().close();

    // The button's accessible name says what it revokes (the visually hidden part is for screen readers).
    const revoke = page.getByRole('button', { name: 'Revoke access of Portal Notes Agent at Notes MCP' });
    await Promise.all([page.waitForURL(/\/account\?status=grant-revoked$/), revoke.click()]);
    expect(await page.getByRole('status').textContent()).toContain('Access revoked');
    expect(await page.locator('article.client', { hasText: 'Portal Notes Agent' }).count()).toBe(0);

    const refused = await client.refresh(currentRefreshToken);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    const { rows } = await app.db.query(`SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [client.clientId]);
    expect(rows).toEqual([]);
    await page.context().close();
  });

  it('revoking one client leaves another client of the same person working', async () => {
    const kept = await connectClient('Kept Agent');
    const revoked = await connectClient('Revoked Agent');
    const page = await openPage(browser);
    await page.goto(`${app.issuer}/account`);
    await signInOnPage(page, email);
    await Promise.all([
      page.waitForURL(/status=grant-revoked/),
      page.getByRole('button', { name: 'Revoke access of Revoked Agent at Notes MCP' }).click(),
    ]);
    expect((await revoked.client.refresh(revoked.refreshToken)).body.error).toBe('invalid_grant');
    const stillWorks = await kept.client.refresh(kept.refreshToken);
    expect(stillWorks.status, JSON.stringify(stillWorks.body)).toBe(200);
    expect(await page.locator('article.client', { hasText: 'Kept Agent' }).count()).toBe(1);
    await page.context().close();
  });
});
