// The console's Clients page adding machine clients in real headless Chromium: a refused form keeps what was
// typed and says why; a secret client's secret is shown once and works at /token; a JWKS client gets no secret.
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { addAccount } from '../../src/accounts/store.ts';
import { notesResource, PASSWORD } from '../helpers/test-app.ts';
import { createLiveTestApp, launchChromium, openPage, saveScreenshot, signInOnPage, type LiveTestApp } from './harness.ts';

const NOTES = 'https://notes.example.com/mcp';
let browser: Browser;
let app: LiveTestApp;
beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  await addAccount(app.db, { email: 'ops@example.com', password: PASSWORD, isAdmin: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

it('adds a machine client with a secret shown once, and one with a JWKS', async () => {
  const page = await openPage(browser, { viewport: { width: 1280, height: 900 } });
  const violations: string[] = [];
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
  await page.goto(`${app.issuer}/admin/clients`);
  await signInOnPage(page, 'ops@example.com');
  await page.goto(`${app.issuer}/admin/clients`);

  // An irreversible scope without the checkbox: refused, the form keeps what was typed.
  await page.getByLabel('Name', { exact: true }).fill('Nightly digest');
  await page.getByLabel('Resource', { exact: true }).selectOption(NOTES);
  await page.getByLabel('Allowed scopes (space separated, from the resource\'s)').fill('notes:read notes:delete');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add machine client' }).click()]);
  expect(await page.textContent('body')).toContain('scope notes:delete is irreversible');
  expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Nightly digest');

  await page.getByLabel('Allowed scopes (space separated, from the resource\'s)').fill('notes:read notes:write');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add machine client' }).click()]);
  expect(await page.textContent('body')).toContain('Copy the client secret now: it is not shown again');
  const clientId = (await page.textContent('#created-client-id'))!.trim();
  const clientSecret = (await page.textContent('#created-client-secret'))!.trim();
  expect(await page.textContent('body')).toContain(`Machine client for ${NOTES}: notes:read notes:write`);
  await saveScreenshot(page, 'admin-machine-client.png');

  // What the page showed works: a client_credentials token for the bound resource.
  const response = await fetch(`${app.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: NOTES, scope: 'notes:write' }),
  });
  expect(response.status).toBe(200);
  expect((await response.json()).scope).toBe('notes:write');

  // Reloading shows no secret: it was in that one response only.
  await page.goto(`${app.issuer}/admin/clients`);
  expect(await page.content()).not.toContain(clientSecret);

  const { publicKey } = await generateKeyPair('ES256');
  await page.getByLabel('Name', { exact: true }).fill('Indexer');
  await page.getByLabel('Allowed scopes (space separated, from the resource\'s)').fill('notes:read');
  await page.getByLabel('Public keys: a JWKS (recommended; private_key_jwt)').fill(JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'indexer-1' }] }));
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add machine client' }).click()]);
  const body = await page.textContent('body');
  expect(body).toContain('Machine client registered');
  expect(body).toContain('private_key_jwt');
  expect(await page.locator('#created-client-secret').count()).toBe(0);
  expect(violations).toEqual([]);
}, 90_000);
