// The console's Diagnose page in real headless Chromium: a client whose requests failed in three usual
// ways (a redirect URI with a trailing slash, no PKCE, a made-up refresh token), reached from the Clients
// page; each failure shown with its cause and fix; no CSP violation. Saves a screenshot on desktop and phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { addAccount } from '../../src/accounts/store.ts';
import { flushFailureWrites } from '../../src/oidc/failure-events.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import { createLiveTestApp, launchChromium, openOnPhone, openPage, saveScreenshot, signInOnPage, type LiveTestApp } from './harness.ts';

const NOTES = 'https://notes.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:33418/callback';
let browser: Browser;
let app: LiveTestApp;
let adminEmail: string;

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  adminEmail = (await addAccount(app.db, { email: 'ops@example.com', password: PASSWORD, isAdmin: true })).email;
  const registered = await fetch(`${app.issuer}/reg`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Broken Desktop', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
  });
  const { client_id: clientId } = await registered.json() as { client_id: string };
  const authorize = (params: Record<string, string>) => fetch(`${app.issuer}/auth?${new URLSearchParams({
    response_type: 'code', client_id: clientId, resource: NOTES, scope: 'notes:read', state: 's', ...params,
  })}`, { redirect: 'manual' });
  await authorize({ redirect_uri: `${REDIRECT}/`, code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' });
  await authorize({ redirect_uri: REDIRECT });
  await fetch(`${app.issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'made-up' }),
  });
  await flushFailureWrites();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the Diagnose page in a real browser', () => {
  it('is reached from the Clients page and shows each failure with its cause and fix', async () => {
    const page = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    const violations: string[] = [];
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
    await page.goto(`${app.issuer}/admin/clients`);
    await signInOnPage(page, adminEmail);
    await page.goto(`${app.issuer}/admin/clients`);
    await Promise.all([page.waitForURL(/\/admin\/clients\/diagnose\?id=/), page.getByRole('link', { name: 'Diagnose Broken Desktop' }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Why Broken Desktop fails');
    const cards = page.locator('li.diagnosis');
    expect(await cards.count()).toBe(3);
    expect(await cards.evaluateAll((items) => items.map((item) => item.getAttribute('data-cause'))))
      .toEqual(['refresh_token_unknown_or_expired', 'pkce_missing', 'redirect_uri_not_registered']);
    const redirect = page.locator('li.diagnosis[data-cause="redirect_uri_not_registered"]');
    expect(await redirect.locator('.cause').textContent()).toContain('it differs only by a trailing slash');
    expect(await redirect.locator('.fix').textContent()).toContain(`Send exactly "${REDIRECT}"`);
    // The request's details open on demand.
    expect(await redirect.locator('dd', { hasText: `${REDIRECT}/` }).isVisible()).toBe(false);
    await redirect.locator('summary').click();
    expect(await redirect.locator('dd', { hasText: `${REDIRECT}/` }).isVisible()).toBe(true);
    expect(await page.content()).not.toContain('made-up');
    await saveScreenshot(page, 'admin-client-diagnostics.png');
    const phone = await openOnPhone(browser, page);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await saveScreenshot(phone, 'admin-client-diagnostics-phone.png');
    expect(violations).toEqual([]);
  }, 180_000);
});
