// The organisation's policies in real headless Chromium: a contractor's consent page offers read only and
// says, beside each withheld scope, which policy and risk keep it off (the token then carries read only);
// an admin adds and removes a policy on the console's Policies tab. No CSP violation. Saves screenshots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { addAccount } from '../../src/accounts/store.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import { addAcmeProvider, addMember, allow } from '../policies/policy-test-setup.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openPage, reachConsent, saveScreenshot, scopeGroups, signInOnPage,
  startCallbackServer, type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES = 'https://mcp.example.com/mcp';
let browser: Browser;
let app: LiveTestApp;
let callbacks: CallbackServer;
let contractor: string;

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  const acme = await addAcmeProvider(app.db);
  contractor = (await addMember(app, acme.id, { groups: ['contractors'] })).email;
  await allow(app.db, NOTES, 'groups=contractors', 'read');
  await allow(app.db, NOTES, 'groups=ops', 'irreversible');
  await addAccount(app.db, { email: 'ops@example.com', password: PASSWORD, isAdmin: true });
  callbacks = await startCallbackServer();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await callbacks?.close();
  await app?.close();
});

describe('policies in a real browser', () => {
  it('shows a contractor only read, with the reason beside each withheld scope, and grants read', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri, 'Notes Agent');
    const request = client.authorization(NOTES, 'notes:read notes:write notes:delete');
    const page = await openPage(browser);
    const violations: string[] = [];
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
    await reachConsent(page, request.url, contractor);

    expect(await scopeGroups(page)).toEqual({ 'notes:read': 'read' });
    const withheld = page.getByRole('region', { name: 'Not yours to allow' });
    await expect.poll(() => withheld.locator('li code').allTextContents()).toEqual(['notes:write', 'notes:delete']);
    const reasons = await withheld.locator('li .reason').allTextContents();
    expect(reasons[0]).toMatch(/^Your organisation's policy lets you approve at most read access here \(groups=contractors, policy pol_[0-9a-f]{16}\); this permission is write\.$/);
    expect(reasons[1]).toContain('this permission is irreversible.');
    // Nothing withheld can be ticked: there is no checkbox for it.
    expect(await page.locator('input[name="scope"][value="notes:write"]').count()).toBe(0);
    await saveScreenshot(page, 'consent-policy-withheld.png');

    const delivered = callbacks.next();
    await page.getByRole('button', { name: 'Allow checked', exact: true }).click();
    const tokens = await client.redeem(await delivered, request);
    expect(tokens.scope).toBe('notes:read');
    expect(violations).toEqual([]);
  }, 60_000);

  it('lets an admin add a policy on the Policies tab, and remove it', async () => {
    const page = await openPage(browser);
    const violations: string[] = [];
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
    await page.goto(`${app.issuer}/admin/policies`);
    await signInOnPage(page, 'ops@example.com');
    await page.goto(`${app.issuer}/admin/policies`);
    await page.getByLabel('Resource').selectOption(NOTES);
    await page.getByLabel('Claim (CLAIM=VALUE)').fill('domain=Acme.Example');
    await page.getByLabel('May approve up to').selectOption('write');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add policy' }).click()]);
    const text = await page.textContent('body');
    expect(text).toContain('Policy added.');
    expect(text).toContain('domain=acme.example');
    await saveScreenshot(page, 'admin-policies.png');

    // A malformed claim is shown again with the reason, and nothing is added.
    await page.getByLabel('Claim (CLAIM=VALUE)').fill('groups');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add policy' }).click()]);
    expect(await page.getByRole('alert').textContent()).toContain('write the claim as CLAIM=VALUE');

    const row = page.locator('tr', { hasText: 'domain=acme.example' });
    await Promise.all([page.waitForNavigation(), row.getByRole('button', { name: /^Remove/ }).click()]);
    expect(await page.textContent('body')).toContain('Policy removed.');
    expect(await page.locator('tr', { hasText: 'domain=acme.example' }).count()).toBe(0);
    expect(violations).toEqual([]);
  }, 60_000);
});
