// The portal's "What it did recently" in real headless Chromium (issue 14 §6): the example notes server, governed
// by the kit with its resource credential, records what a person's application did (a note added, one refused over
// the write budget, a read); the person sees it under that grant, and only there. No CSP violation. Saves a screenshot.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { registerClient } from '../../src/clients/service.ts';
import { setToolBudget } from '../../src/tools/budgets.ts';
import { approveTools, refreshToolCatalog, toolServiceDeps } from '../../src/tools/service.ts';
import { freePort } from '../helpers/free-port.ts';
import { notesResource, TEST_SECRETS } from '../helpers/test-app.ts';
import {
  createLiveTestApp, launchChromium, McpClient, openPage, reachConsent, saveScreenshot, signInOnPage, startCallbackServer,
  type CallbackServer, type LiveTestApp,
} from './harness.ts';

const NOTE = 'buy-oat-milk-9182';
let browser: Browser;
let app: LiveTestApp;
let callbacks: CallbackServer;
let notes: NotesServer;
let email: string;

beforeAll(async () => {
  browser = await launchChromium();
  app = await createLiveTestApp({ CIMD_ALLOW_LOOPBACK: 'true' });
  const port = await freePort();
  const resource = `http://localhost:${port}/mcp`;
  await app.addResource(notesResource(resource));
  const credential = await registerClient(app.db, { kind: 'introspection', name: 'Notes MCP server', resource }, CLI_OPERATOR);
  notes = await startNotesServer({
    port, issuer: app.issuer,
    governance: { clientId: credential.clientId, clientSecret: credential.clientSecret!, cacheSeconds: 0, recorder: { flushIntervalMs: 3_600_000 } },
  });
  expect((await refreshToolCatalog(toolServiceDeps(app.db, app.config, TEST_SECRETS.keyEncryptionSecret), resource, CLI_OPERATOR)).error).toBeUndefined();
  await approveTools(app.db, resource, {}, CLI_OPERATOR);
  await setToolBudget(app.db, resource, { risk: 'write', max: 1, per: 3600 }, CLI_OPERATOR);
  email = (await app.addUser()).email;
  callbacks = await startCallbackServer();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await callbacks?.close();
  await notes?.close();
  await app?.close();
});

/** A client the person authorizes in the browser for read and write; returns its access token. */
async function connect(name: string, scope: string): Promise<string> {
  const client = await McpClient.register(app.issuer, callbacks.redirectUri, name);
  const request = client.authorization(notes.url, scope);
  const page = await openPage(browser);
  await reachConsent(page, request.url, email);
  if (scope.includes('notes:write')) await page.getByLabel('Add notes').check();
  const delivered = callbacks.next();
  await page.getByRole('button', { name: 'Allow checked' }).click();
  const tokens = await client.redeem(await delivered, request);
  expect(tokens.scope).toBe(scope);
  await page.context().close();
  return tokens.access_token;
}

async function callTool(token: string, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const mcp = new Client({ name: 'portal-tool-calls', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(notes.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const result = await mcp.callTool({ name, arguments: args });
    return (result.content as { text: string }[])[0]!.text;
  } catch (error) {
    return `error ${(error as { code?: number }).code}`;
  } finally {
    await mcp.close();
  }
}

describe('"What it did recently" in a real browser', () => {
  it('lists, under the grant that made them, the calls the notes server recorded: allowed and refused over budget', async () => {
    const writer = await connect('Notes Writer Agent', 'notes:read notes:write');
    const idle = await connect('Idle Agent', 'notes:read');
    expect(await callTool(writer, 'add_note', { text: NOTE })).toBe('Added note 1.');
    expect(await callTool(writer, 'add_note', { text: NOTE })).toBe('error -32004');
    expect(await callTool(writer, 'list_notes')).toBe(`1. ${NOTE}`);
    expect(idle).toBeTruthy();
    await notes.governance!.recorder.flush();

    const page = await openPage(browser);
    const violations: string[] = [];
    page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
    await page.goto(`${app.issuer}/account`);
    await signInOnPage(page, email);
    const card = page.locator('article.client', { hasText: 'Notes Writer Agent' });
    const list = card.locator('.tool-calls');
    expect(await list.locator('.grant-resource').textContent()).toBe('What it did recently');
    // Newest first: the read, the refusal over the budget, the note added.
    const cells = async (row: number) => (await list.locator('tbody tr').nth(row).locator('td').allTextContents()).slice(1);
    expect(await list.locator('tbody tr').count()).toBe(3);
    expect(await cells(0)).toEqual(['list_notes', 'Allowed']);
    expect(await cells(1)).toEqual(['add_note', 'Refused: over its limit']);
    expect(await cells(2)).toEqual(['add_note', 'Allowed']);
    expect(await list.locator('tbody tr').nth(1).getAttribute('class')).toBe('tool-call-refused');
    expect(await list.locator('time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // The other application did nothing: no list under it; the note's text is on no page.
    expect(await page.locator('article.client', { hasText: 'Idle Agent' }).locator('.tool-calls').count()).toBe(0);
    expect(await page.textContent('body')).not.toContain(NOTE);
    await card.scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'portal-tool-calls.png');
    expect(violations).toEqual([]);
    await page.context().close();
  }, 60_000);
});
