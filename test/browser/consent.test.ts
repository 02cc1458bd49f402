// The consent flow in real headless Chromium, as a person clicks it: sign in, least-privilege
// defaults, approve, step-up showing only the delta, an irreversible scope, and deny.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { toolDefinitionOf, toolDigest, toolScopesMeta } from '@portcullis/resource-server';
import { notesResource } from '../helpers/test-app.ts';
import { listListedTools, replaceListedTools, saveApproval } from '../../src/tools/store.ts';
import { approveTools } from '../../src/tools/service.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
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
  // The notes server's tools as an operator approved them (issue 14 §5), and one listed since, not approved.
  const tool = (name: string, title: string, scope: string) => {
    const definition = toolDefinitionOf({ name, title, _meta: toolScopesMeta([scope]) })!;
    return { name, definition, digest: toolDigest(definition) };
  };
  for (const pin of [tool('list_notes', 'List notes', 'notes:read'), tool('add_note', 'Add a note', 'notes:write'), tool('delete_all_notes', 'Delete all notes', 'notes:delete')]) {
    await saveApproval(app.db, NOTES, pin, 'ops@example.com');
  }
  await replaceListedTools(app.db, NOTES, [tool('export_notes', 'Export notes to the author', 'notes:read')]);
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
    // Under each scope, the approved tools behind it by title; the unapproved one is not shown.
    const toolsOf = (scope: string) => page.getByRole('list', { name: `Tools ${scope} lets it use` }).getByRole('listitem').allTextContents();
    expect(await toolsOf('notes:read')).toEqual(['List notes']);
    expect(await toolsOf('notes:write')).toEqual(['Add a note']);
    expect(await toolsOf('notes:delete')).toEqual(['Delete all notes']);
    expect(await page.locator('main').textContent()).not.toContain('Export notes to the author');
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

  it('Deny on a never-approved client stops at the leaving page; its link sends access_denied with the state, and no grant is stored', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri);
    const request = client.authorization(NOTES, 'notes:read notes:write');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Deny', exact: true }).click()]);
    const host = new URL(callbacks.redirectUri).host;
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`You are leaving Portcullis for ${host}`);
    await saveScreenshot(page, 'leaving-access-denied.png');
    const delivered = callbacks.next();
    await page.getByRole('link', { name: `Continue to ${host}` }).click();
    const callback = await delivered;
    expect(callback.get('error')).toBe('access_denied');
    expect(callback.get('state')).toBe(request.state);
    expect(callback.get('iss')).toBe(app.issuer);
    expect(callback.get('code')).toBeNull();
    const { rows } = await app.db.query(`SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [client.clientId]);
    expect(rows).toEqual([]);
    await page.context().close();
  });

  it('lists the email the client asks for as a line to tick; left unticked, the ID token carries none', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri, 'Email Agent');
    const request = client.authorization(NOTES, 'openid email notes:read');
    const page = await openPage(browser);
    await reachConsent(page, request.url, email);
    const line = page.getByLabel(`Your email address (${email})`);
    expect(await line.isVisible()).toBe(true);
    expect(await line.isChecked()).toBe(false);
    expect(await page.locator('fieldset.identity-claims legend').textContent()).toBe('About you');
    await saveScreenshot(page, 'consent-email.png');
    const tokens = await client.redeem(await answer(page, 'Allow checked'), request);
    expect(tokens.id_token).toEqual(expect.any(String));
    expect(decodeJwt(tokens.id_token!)).not.toHaveProperty('email');
    await page.context().close();
  });

  it('a self-registered client\'s logout redirect stops at the leaving page naming the host', async () => {
    const registered = await fetch(`${app.issuer}/reg`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Logout Agent', redirect_uris: [callbacks.redirectUri], post_logout_redirect_uris: [callbacks.redirectUri],
        token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId } = await registered.json() as { client_id: string };
    const page = await openPage(browser);
    await page.goto(`${app.issuer}/session/end?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: callbacks.redirectUri, state: 'bye' })}`);
    // Not signed in: oidc-provider confirms by itself; otherwise the person clicks Sign out.
    if (await page.getByRole('button', { name: 'Sign out' }).count()) {
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
    }
    const host = new URL(callbacks.redirectUri).host;
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(`You are leaving Portcullis for ${host}`);
    expect(await page.locator('main').textContent()).toContain('You are signed out');
    await saveScreenshot(page, 'leaving-logout.png');
    const delivered = callbacks.next();
    await page.getByRole('link', { name: `Continue to ${host}` }).click();
    expect((await delivered).get('state')).toBe('bye');
    await page.context().close();
  });
});

// Last: the approval below puts a new tool under notes:read for every page after it.
describe('re-consent after a scope gained riskier tools (issue 14 §3)', () => {
  it('asks again with a notice naming the new tools; Continue keeps the grant and clears the flag', async () => {
    const client = await McpClient.register(app.issuer, callbacks.redirectUri, 'Notes Reader');
    const page = await openPage(browser);
    await approveDefaults(page, client, 'notes:read');
    // The server adds a tool that deletes yet only needs notes:read besides notes:delete; the operator approves it.
    const purge = toolDefinitionOf({ name: 'purge_notes', title: 'Purge old notes', _meta: toolScopesMeta(['notes:read', 'notes:delete']) })!;
    await replaceListedTools(app.db, NOTES, [...await listListedTools(app.db, NOTES), { name: purge.name, definition: purge, digest: toolDigest(purge) }]);
    await approveTools(app.db, NOTES, { tools: ['purge_notes'] }, CLI_OPERATOR);

    const flagged = async (clientId: string) => (await app.db.query(`SELECT 1 FROM grant_tool_reconsents r JOIN oidc_models g
      ON g.model = 'Grant' AND g.id = r.grant_id WHERE g.payload->>'clientId' = $1`, [clientId])).rows.length;
    const request = client.authorization(NOTES, 'notes:read');
    await reachConsent(page, request.url, email);
    const notice = page.getByRole('note', { name: 'Why you are asked again' });
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toMatch(/Notes MCP now lets applications with notes:read also use\s+a tool of a higher risk \(irreversible\)/);
    expect(await page.getByRole('list', { name: 'New tools notes:read reaches' }).getByRole('listitem').allTextContents()).toEqual(['Purge old notes']);
    expect(await page.locator('.kept-scopes code').allTextContents()).toEqual(['notes:read']);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await saveScreenshot(page, 'consent-reconsent.png');

    expect(await flagged(client.clientId)).toBe(1);
    const tokens = await client.redeem(await answer(page, 'Continue'), request);
    expect(tokens.scope).toBe('notes:read');
    expect(await flagged(client.clientId)).toBe(0);
    await page.context().close();
  });
});
