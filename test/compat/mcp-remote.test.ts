// mcp-remote (the stdio proxy desktop MCP hosts run for remote servers) against Portcullis and the notes
// server, the person in headless Chromium: first sign-in, tools, a step-up for a write, and a refresh when
// its token runs low. (test/e2e/mcp-remote-irreversible.test.ts covers irreversible scopes.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { freePort } from '../helpers/free-port.ts';
import { McpRemote, type JsonRpcAnswer } from '../e2e/mcp-remote.ts';
import { approveInBrowser, openPage, startCompatStack, type CompatStack } from './stack.ts';

let stack: CompatStack;
let remote: McpRemote | undefined;
beforeAll(async () => { stack = await startCompatStack(); });
afterAll(async () => {
  await remote?.close();
  await stack?.close();
});

const toolText = (answer: JsonRpcAnswer) =>
  ((answer.result?.content as { text?: string }[] | undefined)?.[0]?.text) ?? JSON.stringify(answer);

describe('mcp-remote', () => {
  it('signs in through dynamic registration, steps up for a write, and refreshes on its own', async () => {
    const page = await openPage(stack.browser);
    remote = await McpRemote.start(stack.notes.url, await freePort());

    const initialized = remote.request('initialize', {
      protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'desktop-host', version: '1.0.0' },
    });
    const first = new URL(await remote.waitForOpenedUrl(1));
    expect(Object.fromEntries(first.searchParams)).toMatchObject({ resource: stack.notes.url, code_challenge_method: 'S256' });
    // The notes server's baseline, plus offline_access (the AS metadata lists it) for a refresh token.
    expect(first.searchParams.get('scope')?.split(' ').sort()).toEqual(['notes:read', 'offline_access']);
    const landed = await approveInBrowser(page, first.href, stack.email);
    expect(landed.searchParams.get('iss')).toBe(stack.portcullis.issuer);
    expect((await initialized).result).toMatchObject({ serverInfo: { name: 'portcullis-notes-example' } });
    remote.notify('notifications/initialized');
    const tools = (await remote.request('tools/list')).result?.tools as { name: string }[];
    expect(tools.map((tool) => tool.name).sort()).toEqual(['add_note', 'delete_all_notes', 'list_notes']);
    expect(toolText(await remote.callTool('list_notes'))).toBe('You have no notes.');

    // add_note: 403 insufficient_scope names notes:read notes:write; mcp-remote sends the person back.
    const adding = remote.callTool('add_note', { text: 'from a desktop host' });
    const stepUp = new URL(await remote.waitForOpenedUrl(2));
    expect(stepUp.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    await approveInBrowser(page, stepUp.href, stack.email, ['Add notes']);
    expect(toolText(await adding)).toBe('Added note 1.');
    const granted = await remote.tokens();
    expect(decodeJwt(granted.access_token).scope).toBe('notes:read notes:write');

    // 30 s left: mcp-remote refreshes before the next call (it treats 60 s or less as expired).
    await remote.ageTokens(30);
    expect(toolText(await remote.callTool('list_notes'))).toBe('1. from a desktop host');
    const refreshed = await remote.tokens();
    expect(refreshed.refresh_token).not.toBe(granted.refresh_token);
    expect(decodeJwt(refreshed.access_token).scope).toBe('notes:read notes:write');
    expect(await remote.openedUrls()).toHaveLength(2);
    await page.context().close();
  });
});
