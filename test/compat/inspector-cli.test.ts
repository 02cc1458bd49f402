// The MCP Inspector's CLI mode against Portcullis and the notes server: its interactive OAuth (dynamic
// registration or a Client ID Metadata Document, PKCE, resource) finished by the person in Chromium, a
// later run on the stored tokens alone, and what it does on a 403 insufficient_scope (it refreshes, then
// gives up: its own bug).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { freePort } from '../helpers/free-port.ts';
import { CIMD_DEV_ENV, clientDocument, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { InspectorCli } from './inspector-cli.ts';
import { approveInBrowser, openPage, startCompatStack, type CompatStack } from './stack.ts';

let stack: CompatStack;
let docs: DocumentServer;
let cli: InspectorCli;
let callbackUrl: string;
beforeAll(async () => {
  docs = await startDocumentServer();
  // Metadata documents come from the local https document server (development mode).
  stack = await startCompatStack(CIMD_DEV_ENV);
  cli = await InspectorCli.create();
  callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
});
afterAll(async () => {
  await cli?.close();
  await stack?.close();
  await docs?.close();
});

const resultOf = (stdout: string) => (JSON.parse(stdout) as { result: Record<string, unknown> }).result;

async function tokenGrantTypes(): Promise<string[]> {
  // The audit row is written beside the response: wait for it.
  await flushAuditWrites();
  const { rows } = await stack.portcullis.db.query<{ grant_type: string }>(
    `SELECT details->>'grant_type' AS grant_type FROM audit_events WHERE event_type = 'token.issued' ORDER BY id`);
  return rows.map((row) => row.grant_type);
}

describe('MCP Inspector CLI (mcp-inspector --cli)', () => {
  it('signs in on first use: registers itself, sends PKCE and resource, and lists the tools', async () => {
    const run = cli.run([stack.notes.url, '--method', 'tools/list', '--callback-url', callbackUrl]);
    const authorization = new URL(await run.authorizationUrl);
    expect(authorization.origin).toBe(stack.portcullis.issuer);
    expect(Object.fromEntries(authorization.searchParams)).toMatchObject({
      resource: stack.notes.url, code_challenge_method: 'S256', redirect_uri: callbackUrl, prompt: 'consent',
    });
    // The notes server's baseline (scopes_supported), plus offline_access, which the CLI always adds.
    expect(authorization.searchParams.get('scope')?.split(' ').sort()).toEqual(['notes:read', 'offline_access']);

    const page = await openPage(stack.browser);
    const landed = await approveInBrowser(page, authorization.href, stack.email);
    expect(landed.searchParams.get('iss')).toBe(stack.portcullis.issuer);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    expect((resultOf(stdout).tools as { name: string }[]).map((tool) => tool.name).sort())
      .toEqual(['add_note', 'delete_all_notes', 'list_notes']);
    await page.context().close();
  });

  it('a later run uses the stored tokens with --stored-auth-only (the CI mode): no sign-in', async () => {
    stack.notes.store.add(stack.personId, 'stored');
    const run = cli.run([stack.notes.url, '--method', 'tools/call', '--tool-name', 'list_notes', '--stored-auth-only']);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    expect(resultOf(stdout)).toMatchObject({ content: [{ type: 'text', text: '1. stored' }] });
    expect(stderr).not.toContain('Please navigate to');
  });

  it('a tool needing more scope: the CLI refreshes (same scope, by RFC 6749 §6) and then stops with its own error', async () => {
    const before = await tokenGrantTypes();
    const run = cli.run([stack.notes.url, '--method', 'tools/call', '--tool-name', 'add_note', '--tool-arg', 'text=hello', '--callback-url', callbackUrl]);
    const { code, stderr } = await run.done;
    // Its step-up calls the SDK's auth(), which refreshes with the stored refresh token and answers
    // AUTHORIZED; the CLI expected a redirect and gives up instead of asking the person for notes:write.
    expect(code).toBe(1);
    expect(stderr).toContain('Unexpected: auth() returned AUTHORIZED without authorization code');
    expect(stderr).not.toContain('Please navigate to');
    expect((await tokenGrantTypes()).slice(before.length)).toEqual(['refresh_token']);
    expect(stack.notes.store.list(stack.personId)).toEqual(['stored']);
  });

  it('with --client-metadata-url: the document URL is its client_id, nothing is registered', async () => {
    const own = await InspectorCli.create();
    const documentUrl = docs.url('/inspector/client.json');
    docs.serveJson('/inspector/client.json', clientDocument(documentUrl, callbackUrl, { client_name: 'MCP Inspector' }));
    const registeredClients = async () => (await stack.portcullis.db.query(`SELECT id FROM oidc_models WHERE model = 'Client'`)).rows.length;
    const before = await registeredClients();
    try {
      const run = own.run([stack.notes.url, '--method', 'tools/list', '--callback-url', callbackUrl, '--client-metadata-url', documentUrl]);
      const authorization = new URL(await run.authorizationUrl);
      expect(authorization.searchParams.get('client_id')).toBe(documentUrl);
      const page = await openPage(stack.browser);
      await approveInBrowser(page, authorization.href, stack.email);
      const { code, stderr } = await run.done;
      expect(code, stderr).toBe(0);
      expect(docs.hits.get('/inspector/client.json')).toBe(1);
      expect(await registeredClients()).toBe(before);
      await page.context().close();
    } finally {
      await own.close();
    }
  });
});
