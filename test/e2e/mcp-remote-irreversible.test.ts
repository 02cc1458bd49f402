// mcp-remote against Portcullis and the notes server, with a person in headless Chromium: step-up to the
// irreversible notes:delete, one deletion, a refresh that repeats the spent scope and keeps working,
// and a second deletion that needs a second "yes".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { createLiveTestApp, launchChromium, openPage, reachConsent, saveScreenshot, scopeBoxes, type LiveTestApp } from '../browser/harness.ts';
import { freePort } from '../helpers/free-port.ts';
import { McpRemote, type JsonRpcAnswer } from './mcp-remote.ts';

const NOTES_SCOPES = [
  { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
  { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  { scope: 'notes:delete', risk: 'irreversible' as const, description: 'Delete all your notes' },
];

let portcullis: LiveTestApp;
let notes: NotesServer;
let browser: Browser;
let remote: McpRemote | undefined;
beforeAll(async () => {
  portcullis = await createLiveTestApp();
  notes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: notes.url, name: 'Notes', scopes: NOTES_SCOPES });
  browser = await launchChromium();
});
afterAll(async () => {
  await remote?.close();
  await browser?.close();
  await notes?.close();
  await portcullis?.close();
});

const toolText = (answer: JsonRpcAnswer) =>
  ((answer.result?.content as { text?: string }[] | undefined)?.[0]?.text) ?? JSON.stringify(answer);

/**
 * The person answers the consent page behind `url`: signs in if asked, ticks `tick`, then "Allow checked";
 * returns the scope boxes as offered, once the browser is back at mcp-remote's callback.
 */
async function consent(page: Page, url: string, email: string, tick: string[], screenshot: string) {
  await reachConsent(page, url, email);
  const offered = await scopeBoxes(page);
  for (const label of tick) await page.getByLabel(label).check();
  await saveScreenshot(page, screenshot);
  await Promise.all([page.waitForURL(/\/oauth\/callback\?/), page.getByRole('button', { name: 'Allow checked', exact: true }).click()]);
  return offered;
}

describe('mcp-remote with an irreversible scope', () => {
  it('deletes once per yes, and a refresh repeating the spent scope keeps the client working', async () => {
    const person = await portcullis.addUser();
    notes.store.add(person.id, 'first');
    notes.store.add(person.id, 'second');
    const page = await openPage(browser);
    remote = await McpRemote.start(notes.url, await freePort());

    // Sign-in: the baseline scope (the notes server's scopes_supported), read only.
    const initialized = remote.request('initialize', {
      protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'desktop-host', version: '1.0.0' },
    });
    await consent(page, await remote.waitForOpenedUrl(1), person.email, [], 'mcp-remote-1-sign-in.png');
    expect((await initialized).result, JSON.stringify(await initialized)).toMatchObject({ serverInfo: { name: 'portcullis-notes-example' } });
    remote.notify('notifications/initialized');
    expect(toolText(await remote.callTool('list_notes'))).toBe('1. first\n2. second');

    // delete_all_notes: 403 insufficient_scope → mcp-remote re-authorizes → the person ticks notes:delete.
    const deleting = remote.callTool('delete_all_notes', { confirm: true });
    const stepUp = new URL(await remote.waitForOpenedUrl(2));
    expect(stepUp.searchParams.get('scope')?.split(' ')).toContain('notes:delete');
    // Only the new scope is offered, unticked: the irreversible one is never pre-approved.
    expect(await consent(page, stepUp.href, person.email, ['Delete all your notes'], 'mcp-remote-2-irreversible.png'))
      .toEqual({ 'notes:delete': false });
    expect(toolText(await deleting)).toBe('Deleted 2 notes.');
    const afterYes = await remote.tokens();
    expect(decodeJwt(afterYes.access_token).scope).toContain('notes:delete');
    // Long enough that mcp-remote (refreshing with 60 s left) uses it instead of refreshing it away.
    expect(afterYes.expires_in).toBeGreaterThanOrEqual(120);

    // The same token again, at once: the notes server's kit refuses (one irreversible call per token,
    // 403 insufficient_scope). mcp-remote's step-up first refreshes (the challenge names nothing its stored
    // scope lacks), repeating that scope with notes:delete: Portcullis answers with a token without it (no
    // invalid_scope), the retry is refused for want of the scope, and mcp-remote gives this call up…
    notes.store.add(person.id, 'written later');
    const refused = await remote.callTool('delete_all_notes', { confirm: true });
    expect(refused.error?.message).toMatch(/403 insufficient_scope after step-up/);
    expect(notes.store.list(person.id)).toEqual(['written later']);
    expect(remote.stderr).toMatch(/Added the requested scope to the refresh_token grant[^\n]*\n?[^\n]*notes:delete/);
    expect(remote.stderr).not.toContain('invalid_scope');
    const refreshed = await remote.tokens();
    expect(refreshed.refresh_token).not.toBe(afterYes.refresh_token);
    expect(refreshed.scope?.split(' ')).not.toContain('notes:delete');
    expect(decodeJwt(refreshed.access_token).scope).toBe('notes:read');
    expect(refreshed.expires_in).toBeGreaterThanOrEqual(120);
    expect(toolText(await remote.callTool('list_notes'))).toBe('1. written later');

    // …and the next attempt sends the person to consent: a second deletion needs a second yes.
    const deletingAgain = remote.callTool('delete_all_notes', { confirm: true });
    const secondYes = new URL(await remote.waitForOpenedUrl(3));
    expect(secondYes.searchParams.get('scope')?.split(' ')).toContain('notes:delete');
    expect(notes.store.list(person.id)).toEqual(['written later']);
    expect(await consent(page, secondYes.href, person.email, ['Delete all your notes'], 'mcp-remote-3-second-yes.png'))
      .toEqual({ 'notes:delete': false });
    expect(toolText(await deletingAgain)).toBe('Deleted 1 notes.');

    // Time passes: the token has 30 s left, so mcp-remote refreshes on its own, repeating the spent
    // scope again; the read tool keeps working on the token without it.
    const beforeRefresh = await remote.tokens();
    expect(beforeRefresh.scope?.split(' ')).toContain('notes:delete');
    await remote.ageTokens(30);
    expect(toolText(await remote.callTool('list_notes'))).toBe('You have no notes.');
    const aged = await remote.tokens();
    expect(aged.refresh_token).not.toBe(beforeRefresh.refresh_token);
    expect(aged.scope?.split(' ')).not.toContain('notes:delete');
    expect(remote.stderr).not.toContain('invalid_scope');
    expect(remote.stderr).not.toContain('Proactive token refresh failed');
    expect(await remote.openedUrls()).toHaveLength(3);
  }, 240_000);
});
