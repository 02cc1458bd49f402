// Real headless Chromium against a real listening Portcullis: launching the browser (failing loudly
// when it is missing), the person's steps (sign in, answer consent), and saved screenshots.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { PASSWORD } from '../helpers/test-app.ts';

export { createLiveTestApp, type LiveTestApp } from '../helpers/live-app.ts';
export { McpClient, startCallbackServer, type CallbackServer } from './mcp-client.ts';

/** Debian's `chromium` package; CI installs it. Never playwright's downloaded browsers. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));

/** One browser per test file. A missing Chromium is a failure with instructions, never a skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM_PATH} and it is not there. `
      + 'Install it (Debian/Ubuntu: `apt-get install chromium`); do not use `npx playwright install`.');
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A new context (own cookies: one person's browser) and its page. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
  // Pages answer in well under a second; the margin is for a loaded 2-core CI machine.
  context.setDefaultTimeout(15_000);
  return context.newPage();
}

/** The same browser session seen on a phone (390×844, touch): for the small-screen screenshot. */
export async function openOnPhone(browser: Browser, desktop: Page): Promise<Page> {
  const page = await openPage(browser, {
    storageState: await desktop.context().storageState(),
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  await page.goto(desktop.url());
  return page;
}

/** Saves a full-page PNG under test-artifacts/screenshots/ (git-ignored) for a person to look at. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}`, fullPage: true });
}

/** Fills and submits a sign-in form (the authorization flow's or the portal's), the way a person does. */
export async function signInOnPage(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Opens an authorization URL and signs in if asked; leaves the page on the consent page. */
export async function reachConsent(page: Page, authorizeUrl: string, email: string, screenshotLogin?: string): Promise<void> {
  await page.goto(authorizeUrl);
  if (await page.locator('input[name="password"]').count()) {
    expect(await page.title()).toContain('Sign in');
    if (screenshotLogin) await saveScreenshot(page, screenshotLogin);
    await signInOnPage(page, email);
  }
  expect(await page.locator('form.consent-form').count(), `expected the consent page at ${page.url()}`).toBe(1);
}

/** The scope checkboxes on the consent page and whether each is checked, in page order. */
export async function scopeBoxes(page: Page): Promise<Record<string, boolean>> {
  const boxes = page.locator('input[type="checkbox"][name="scope"]');
  const result: Record<string, boolean> = {};
  for (const box of await boxes.all()) result[(await box.getAttribute('value'))!] = await box.isChecked();
  return result;
}

/** The risk class (fieldset `risk-…`) each offered scope is grouped under. */
export async function scopeGroups(page: Page): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const fieldset of await page.locator('fieldset.scope-group').all()) {
    const risk = /\brisk-(\w+)/.exec((await fieldset.getAttribute('class')) ?? '')?.[1] ?? '';
    for (const box of await fieldset.locator('input[name="scope"]').all()) result[(await box.getAttribute('value'))!] = risk;
  }
  return result;
}
