// The console's Identity providers page in real headless Chromium: an admin adds an Okta provider with
// the form, sees it listed with the redirect URI to register, and no CSP violation. Saves a screenshot.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { addAccount } from '../../src/accounts/store.ts';
import { PASSWORD } from '../helpers/test-app.ts';
import { createLiveTestApp, launchChromium, openPage, saveScreenshot, signInOnPage, type LiveTestApp } from './harness.ts';

let browser: Browser;
let app: LiveTestApp;
beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await addAccount(app.db, { email: 'ops@example.com', password: PASSWORD, isAdmin: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

it('adds an Okta provider through the form and lists it with the redirect URI', async () => {
  const page = await openPage(browser);
  const violations: string[] = [];
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
  await page.goto(`${app.issuer}/admin/identity-providers`);
  await signInOnPage(page, 'ops@example.com');
  await page.goto(`${app.issuer}/admin/identity-providers`);
  await page.getByLabel('Name (lowercase, used by the CLI)').fill('acme');
  await page.getByLabel('Display name').fill('Acme Okta');
  await page.getByLabel('Provider', { exact: true }).selectOption('okta');
  await page.getByLabel('Issuer URL (Okta and other OpenID providers)').fill('https://acme.okta.com/oauth2/default');
  await page.getByLabel('Client ID').fill('0oa1b2c3');
  await page.getByLabel('Client secret (stored encrypted, never shown again)').fill('okta-client-secret');
  await page.getByLabel('Email domains (space or comma separated)').fill('acme.com');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add provider' }).click()]);
  const text = await page.textContent('body');
  expect(text).toContain('Identity provider added');
  expect(text).toContain('Acme Okta');
  expect(text).toContain(`${app.issuer}/federation/callback`);
  expect(await page.content()).not.toContain('okta-client-secret');
  expect(violations).toEqual([]);
  await saveScreenshot(page, 'admin-identity-providers.png');
}, 60_000);
