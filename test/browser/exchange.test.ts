// Token exchange as a person sees it, in real headless Chromium: the consent page lists the downstream
// services the MCP server will call for them; the portal shows them per grant, and Withdraw stops the exchange.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { registerClient } from '../../src/clients/service.ts';
import { allowExchange } from '../../src/exchange/service.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/exchange/schema.ts';
import { notesResource } from '../helpers/test-app.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openPage, reachConsent, saveScreenshot, signInOnPage, startCallbackServer,
  type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTES = 'https://mcp.example.com/mcp';
const CALENDAR = 'https://calendar.example.com/api';
let browser: Browser;
let app: LiveTestApp;
let callbacks: CallbackServer;
let email: string;
let server: { clientId: string; clientSecret: string };

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp();
  await app.addResource(notesResource(NOTES));
  await app.addResource({ uri: CALENDAR, name: 'Team calendar', scopes: [
    { scope: 'calendar:read', risk: 'read', description: 'See your meetings' },
    { scope: 'calendar:write', risk: 'write', description: 'Add meetings' },
  ] });
  await allowExchange(app.db, { from: NOTES, to: CALENDAR, scopes: ['calendar:read'] }, CLI_OPERATOR);
  const registered = await registerClient(app.db, { kind: 'introspection', name: 'Notes MCP server', resource: NOTES }, CLI_OPERATOR);
  server = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
  email = (await app.addUser()).email;
  callbacks = await startCallbackServer();
});
afterAll(async () => {
  await browser?.close();
  await callbacks?.close();
  await app?.close();
});

const exchange = (subjectToken: string) => fetch(`${app.issuer}/token`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${btoa(`${server.clientId}:${server.clientSecret}`)}` },
  body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: CALENDAR }),
});

describe('downstream services in a real browser', () => {
  it('consent lists them, the portal shows them per grant, and Withdraw refuses the next exchange', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri, 'Exchange Agent');
    const request = client.authorization(NOTES, 'notes:read');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email);
    const block = page.locator('section.downstream');
    expect(await block.getByRole('heading').textContent()).toBe('It will call these services for you');
    expect(await block.locator('strong').allTextContents()).toEqual(['Team calendar']);
    // Only the chain's scopes: calendar:write is declared by the calendar but not allowed on this chain.
    expect(await block.locator('code').allTextContents()).toEqual(['calendar:read']);
    await saveScreenshot(page, 'consent-downstream.png');
    const delivered = callbacks.next();
    await page.getByRole('button', { name: 'Allow checked' }).click();
    const tokens = await client.redeem(await delivered, request);
    await page.context().close();
    expect((await exchange(tokens.access_token)).status).toBe(200);

    const portal = await openPage(browser);
    await portal.goto(`${app.issuer}/account`);
    await signInOnPage(portal, email);
    const card = portal.locator('article.client', { hasText: 'Exchange Agent' });
    expect(await card.locator('.downstream-services strong').allTextContents()).toEqual(['Team calendar']);
    await saveScreenshot(portal, 'portal-downstream.png');
    const withdraw = portal.getByRole('button', { name: 'Withdraw Team calendar from Exchange Agent' });
    await Promise.all([portal.waitForURL(/\/account\?status=downstream-withdrawn$/), withdraw.click()]);
    expect(await portal.getByRole('status').textContent()).toContain('no longer be called');
    expect(await portal.locator('.downstream-withdrawn .badge').textContent()).toBe('withdrawn');
    // The grant itself stays: the person withdrew one downstream service, not the application.
    expect(await portal.getByRole('button', { name: /^Revoke access of Exchange Agent/ }).count()).toBe(1);
    await portal.context().close();

    const refused = await exchange(tokens.access_token);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant');
    const [withdrawn] = await listAuditEvents(app.db, { type: 'exchange.withdrawn', limit: 1 });
    expect(withdrawn?.details).toMatchObject({ from: NOTES, to: CALENDAR });
  });
});
