// The consent flow in real headless Chromium, as a person clicks it: sign in, least-privilege
// defaults, approve, step-up showing only the delta, an irreversible scope, and deny.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { notesResource } from '../helpers/test-app.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openOnPhone, openPage, reachConsent, saveScreenshot, scopeBoxes, scopeGroups,
  startCallbackServer, type CallbackServer, type LiveTestApp,
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

/** Clicks a consent button and returns what the browser delivered to the client's redirect_uri. */
async function answer(page: Page, button: 'Allow checked' | 'Continue' | 'Deny') {
  const delivered = callbacks.next();
  await page.getByRole('button', { name: button, exact: true }).click();
  const query = await delivered;
  await page.waitForURL(`${callbacks.redirectUri}?*`);
  return query;
}

/** A whole first authorization with the defaults left as they are; returns the tokens. */
async function approveDefaults(page: Page, client: McpClient, scope: string) {
  const request = client.authorization(NOTES, scope);
  await reachConsent(page, request.url, email);
  return client.redeem(await answer(page, 'Allow checked'), request);
}

describe('consent in a real browser', () => {
  it('signs in, offers read checked and write/irreversible unchecked, and grants only what stays checked', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri, 'Notes Agent');
    const request = client.authorization(NOTES, 'notes:read notes:write notes:delete');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email, 'login.png');

    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Allow Notes Agent to act for you?');
    await expect.poll(() => page.locator('main').textContent()).toContain(new URL(callbacks.redirectUri).host);
    expect(await scopeGroups(page)).toEqual({ 'notes:read': 'read', 'notes:write': 'write', 'notes:delete': 'irreversible' });
    expect(await page.isChecked('input[name="scope"][value="notes:read"]')).toBe(true);
    expect(await page.isChecked('input[name="scope"][value="notes:write"]')).toBe(false);
    expect(await page.isChecked('input[name="scope"][value="notes:delete"]')).toBe(false);
    // Every checkbox has a label a screen reader announces (clicking the label text toggles the box).
    await page.getByLabel('Add notes').check();
    expect(await page.isChecked('input[name="scope"][value="notes:write"]')).toBe(true);
    await page.getByLabel('Add notes').uncheck();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await saveScreenshot(page, 'consent.png');

    const phone = await openOnPhone(browser, page);
    // Nothing wider than the phone: no sideways scrolling to find a checkbox or a button.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await saveScreenshot(phone, 'consent-mobile.png');
    await phone.context().close();

    const tokens = await client.redeem(await answer(page, 'Allow checked'), request);
    expect(tokens.scope).toBe('notes:read');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ aud: NOTES, scope: 'notes:read', client_id: client.clientId });
    await page.context().close();
  });

  it('walks the keyboard through the scopes in order, then Deny, then Allow', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const page = await openPage(browser);
    await reachConsent(page, client.authorization(NOTES, 'notes:read notes:write notes:delete').url, email);
    const order: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => {
        const element = document.activeElement as HTMLInputElement | HTMLButtonElement | null;
        if (!element) return 'none';
        // A keyboard user must see where focus is: a solid ring at least 2px wide.
        const { outlineStyle, outlineWidth } = getComputedStyle(element);
        const ring = outlineStyle !== 'none' && parseFloat(outlineWidth) >= 2 ? '' : ' (no visible focus ring)';
        return `${element.tagName.toLowerCase()}:${element.value || element.textContent?.trim()}${ring}`;
      }));
    }
    expect(order).toEqual(['input:notes:read', 'input:notes:write', 'input:notes:delete', 'button:deny', 'button:approve']);
    // Space on a focused box ticks it, as a keyboard user expects.
    await page.focus('input[value="notes:write"]');
    await page.keyboard.press('Space');
    expect(await page.isChecked('input[value="notes:write"]')).toBe(true);
    await page.context().close();
  });

  it('step-up shows what is already allowed as kept and only the new scope as a checkbox; the token carries both', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const page = await openPage(browser);
    expect((await approveDefaults(page, client, 'notes:read')).scope).toBe('notes:read');

    // After a 403 insufficient_scope, MCP clients ask for exactly the challenged scope.
    const request = client.authorization(NOTES, 'notes:write');
    await reachConsent(page, request.url, email);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('asks for more access');
    expect(await page.getByRole('heading', { name: 'Already allowed, kept as is' }).isVisible()).toBe(true);
    expect(await page.locator('.kept-scopes code').allTextContents()).toEqual(['notes:read']);
    expect(await scopeBoxes(page)).toEqual({ 'notes:write': false });
    await saveScreenshot(page, 'consent-step-up.png');

    await page.getByLabel('Add notes').check();
    const tokens = await client.redeem(await answer(page, 'Allow checked'), request);
    expect(decodeJwt(tokens.access_token).scope).toBe('notes:read notes:write');
    await page.context().close();
  });

  it('offers an irreversible scope unchecked, and grants it only when ticked, in a short-lived token', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const page = await openPage(browser);
    await approveDefaults(page, client, 'notes:read');

    const request = client.authorization(NOTES, 'notes:delete');
    await reachConsent(page, request.url, email);
    expect(await scopeGroups(page)).toEqual({ 'notes:delete': 'irreversible' });
    expect(await page.isChecked('input[value="notes:delete"]')).toBe(false);
    expect(await page.locator('fieldset.risk-irreversible').textContent()).toContain('cannot be undone');
    await saveScreenshot(page, 'consent-irreversible.png');

    await page.getByLabel('Delete all notes').check();
    const tokens = await client.redeem(await answer(page, 'Allow checked'), request);
    const claims = decodeJwt(tokens.access_token);
    expect(claims.scope).toBe('notes:read notes:delete');
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    await page.context().close();
  });

  it('Deny sends access_denied with the state back to the client, and no grant is stored', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const request = client.authorization(NOTES, 'notes:read notes:write');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email);
    const callback = await answer(page, 'Deny');
    expect(callback.get('error')).toBe('access_denied');
    expect(callback.get('state')).toBe(request.state);
    expect(callback.get('iss')).toBe(app.issuer);
    expect(callback.get('code')).toBeNull();
    const { rows } = await app.db.query(`SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [client.clientId]);
    expect(rows).toEqual([]);
    await page.context().close();
  });
});
