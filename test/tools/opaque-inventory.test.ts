// The inventory of a resource registered with `--token-format opaque` (issue 14 §1): its MCP server checks every token
// at /token/introspection, and that endpoint answers the inventory token (our own JWT access token) as active for
// that one resource's introspection client only, for 60 s. The reserved client id behind it is no client at all.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { createResourceServer, createToolPins, INVENTORY_CLIENT_ID, toolScopesMeta } from '@portcullis/resource-server';
import { mcpServerAuthGate, mcpServerToolPinGate, TOOL_REFUSED_ERROR_CODE } from '@portcullis/resource-server/mcp-sdk-v2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { allowExchange } from '../../src/exchange/service.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/exchange/schema.ts';
import { requireResource } from '../../src/resources/service.ts';
import { issueInventoryToken, INVENTORY_TOKEN_TTL_SECONDS } from '../../src/tools/inventory-token.ts';
import { listListedTools } from '../../src/tools/store.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { freePort } from '../helpers/free-port.ts';
import { authorizeQuery, pkcePair, REDIRECT_URI, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { fetchRoutingIssuerTo } from '../examples/mcp-http.ts';

const LOOPBACK = { CIMD_ALLOW_LOOPBACK: 'true' };
const NOTES_SCOPES = ['--scope', 'notes:read=read', '--scope', 'notes:write=write', '--scope', 'notes:delete=irreversible'];

type Credentials = { clientId: string; clientSecret: string };
let app: TestApp;
let notes: NotesServer;
let notesClient: Credentials;
let pinned: { url: string; client: Credentials; close(): Promise<void> };
/** Every token the notes server sent to /token/introspection: proof that it checked the inventory token there. */
const introspected: string[] = [];

const cli = (argv: string[]) => runCommand(app.db, argv, LOOPBACK);
const basic = ({ clientId, clientSecret }: Credentials) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
const introspect = (token: string, as: Credentials) =>
  app.http().post('/token/introspection').set('Authorization', basic(as)).type('form').send({ token, token_type_hint: 'access_token' });
const inventoryToken = async (uri: string) => issueInventoryToken(app.db, TEST_SECRETS.keyEncryptionSecret, ISSUER, await requireResource(app.db, uri));

/** As an operator does it: the resource first (opaque), then its introspection client, which the server needs to start. */
async function registerOpaqueResource(uri: string, name: string): Promise<Credentials> {
  const added = await cli(['resource', 'add', '--uri', uri, '--name', name, ...NOTES_SCOPES, '--token-format', 'opaque']);
  // Nothing listens there yet: the listing at registration is a recorded failure, never a failed registration.
  expect((added.tools as { error: string | null }).error).toMatch(/tools\/list failed/);
  const client = await cli(['client', 'add', '--name', `${name} MCP server`, '--introspection', '--resource', uri]);
  return { clientId: client.client_id as string, clientSecret: client.client_secret as string };
}

/**
 * A kit-protected MCP server (SDK v2) in introspection mode with the kit's pin gate, which the notes example does
 * not have: the gate is where the kit refuses a tools/call made with the inventory token.
 */
async function startPinnedServer(port: number, client: Credentials, fetch: typeof globalThis.fetch) {
  const url = `http://localhost:${port}/mcp`;
  const tools = [{ name: 'list_notes', description: 'Lists your notes.', inputSchema: { type: 'object' as const, properties: {} }, _meta: toolScopesMeta(['notes:read']) }];
  const mcp = createMcpHandler(() => {
    const server = new McpServer({ name: 'pinned-opaque', version: '1.0.0' });
    server.registerTool('list_notes', { description: 'Lists your notes.', _meta: toolScopesMeta(['notes:read']) }, () => ({ content: [{ type: 'text', text: 'no notes' }] }));
    return server;
  });
  const kit = createResourceServer({ resource: url, issuer: ISSUER, introspection: { ...client, cacheTtlSeconds: 0 }, fetch });
  const pins = createToolPins({ issuer: ISSUER, ...client, servedTools: () => tools, cacheSeconds: 0, fetch });
  const gate = mcpServerAuthGate(kit);
  const pinGate = mcpServerToolPinGate(pins);
  const http: Server = createServer(toNodeHandler({
    fetch: async (request: Request) => {
      const auth = await gate(request);
      if (auth instanceof Response) return auth;
      return (await pinGate(request, auth)) ?? mcp.fetch(request, { authInfo: auth });
    },
  }));
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  expect((http.address() as AddressInfo).port).toBe(port);
  return { url, client, close: async () => { await mcp.close(); await new Promise<void>((resolve) => http.close(() => resolve())); } };
}

beforeAll(async () => {
  app = await createTestApp(LOOPBACK);
  const routed = fetchRoutingIssuerTo(app.server);
  const notesPort = await freePort();
  notesClient = await registerOpaqueResource(`http://localhost:${notesPort}/mcp`, 'Notes');
  const watched: typeof fetch = async (input, init) => {
    if (String(input instanceof Request ? input.url : input).endsWith('/token/introspection')) {
      introspected.push(new URLSearchParams(String(init?.body)).get('token') ?? '');
    }
    return routed(input, init);
  };
  notes = await startNotesServer({ port: notesPort, issuer: ISSUER, fetch: watched, introspection: { ...notesClient, cacheTtlSeconds: 0 } });
  const pinnedPort = await freePort();
  pinned = await startPinnedServer(pinnedPort, await registerOpaqueResource(`http://localhost:${pinnedPort}/mcp`, 'Pinned'), routed);
});
afterAll(async () => {
  await pinned?.close();
  await notes?.close();
  await app?.close();
});
afterEach(() => { vi.useRealTimers(); });

describe('the inventory of an opaque-token resource', () => {
  it('lists the notes server, which checked the inventory token at the introspection endpoint; tools rows and tools.listed recorded', async () => {
    const refreshed = await cli(['resource', 'tools', 'refresh', '--uri', notes.url]);
    expect(refreshed.error).toBeNull();
    expect((await listListedTools(app.db, notes.url)).map((t) => t.name)).toEqual(['add_note', 'delete_all_notes', 'list_notes']);
    const listed = (await listAuditEvents(app.db, { type: 'tools.listed' })).find((e) => e.resource === notes.url);
    expect(listed).toMatchObject({ scopes: 'notes:read', details: { tools: 3, source: 'tools/list' } });
    // The server introspected the very token whose jti the audit event keeps.
    const jtis = introspected.map((token) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}').jti as unknown);
    expect(jtis).toContain((listed!.details as { token_jti: string }).token_jti);
  });

  it('the kit in introspection mode refuses a tools/call made with the inventory token (pin gate), the listing works', async () => {
    expect((await cli(['resource', 'tools', 'refresh', '--uri', pinned.url])).error).toBeNull();
    const { token } = await inventoryToken(pinned.url);
    const mcp = new Client({ name: 'opaque-inventory-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(pinned.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(['list_notes']);
      const refused = await mcp.callTool({ name: 'list_notes', arguments: {} }).then(() => undefined, (error: unknown) => error as { code?: number; message: string });
      expect(refused?.code).toBe(TOOL_REFUSED_ERROR_CODE);
      expect(refused?.message).toMatch(/inventory token may list tools, never call them/);
    } finally {
      await mcp.close();
    }
  });
});

describe('the inventory token at /token/introspection, as any introspecting MCP server sees it', () => {
  it('is active for the resource\'s own introspection client: client_id, sub, aud, read scopes, 60 s exp, Bearer', async () => {
    const { token, jti } = await inventoryToken(notes.url);
    const answer = await introspect(token, notesClient);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({
      active: true, client_id: INVENTORY_CLIENT_ID, sub: INVENTORY_CLIENT_ID, aud: notes.url, scope: 'notes:read', iss: ISSUER, jti, token_type: 'Bearer',
    });
    expect(answer.body.exp - answer.body.iat).toBe(INVENTORY_TOKEN_TTL_SECONDS);
    expect(Math.abs(answer.body.exp - (Date.now() / 1000 + INVENTORY_TOKEN_TTL_SECONDS))).toBeLessThan(5);
  });

  it('is inactive once its 60 s are over', async () => {
    const { token } = await inventoryToken(notes.url);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + (INVENTORY_TOKEN_TTL_SECONDS - 5) * 1000);
    expect((await introspect(token, notesClient)).body.active).toBe(true);
    vi.setSystemTime(Date.now() + 10_000);
    const late = await introspect(token, notesClient);
    expect(late.status).toBe(200);
    expect(late.body).toEqual({ active: false });
  });

  it('is audience bound: another resource\'s introspection client and a confidential application get active:false', async () => {
    const { token } = await inventoryToken(notes.url);
    expect((await introspect(token, pinned.client)).body).toEqual({ active: false });
    const app2 = await cli(['client', 'add', '--name', 'Some confidential app', '--confidential', '--redirect-uri', REDIRECT_URI]);
    expect((await introspect(token, { clientId: app2.client_id as string, clientSecret: app2.client_secret as string })).body).toEqual({ active: false });
    // The token names exactly one audience.
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).aud).toBe(notes.url);
  });
});

describe('the reserved client id portcullis:tool-inventory is no client', () => {
  it('cannot be traded: the resource\'s own client exchanging the inventory token (RFC 8693) gets invalid_grant, on an allowed chain', async () => {
    await allowExchange(app.db, { from: notes.url, to: pinned.url, scopes: ['notes:read'] }, CLI_OPERATOR);
    const { token } = await inventoryToken(notes.url);
    const traded = await app.http().post('/token').type('form').set('Authorization', basic(notesClient))
      .send({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: token, subject_token_type: ACCESS_TOKEN_TYPE, resource: pinned.url });
    expect(traded.status).toBe(400);
    expect(traded.body.error).toBe('invalid_grant');
    expect(traded.body.access_token).toBeUndefined();
    const refused = (await listAuditEvents(app.db, { type: 'token.exchange_refused' }))[0];
    expect(refused).toMatchObject({ client_id: notesClient.clientId, details: { reason: 'no_person', from: notes.url } });
  });

  it('cannot authenticate at /token (client_credentials with a secret, or as a public client)', async () => {
    const withSecret = await app.http().post('/token').type('form').auth(INVENTORY_CLIENT_ID, 'anything')
      .send({ grant_type: 'client_credentials', resource: notes.url, scope: 'notes:read' });
    expect(withSecret.status).toBe(401);
    expect(withSecret.body.error).toBe('invalid_client');
    const { verifier } = pkcePair();
    const asPublic = await app.http().post('/token').type('form')
      .send({ grant_type: 'authorization_code', client_id: INVENTORY_CLIENT_ID, code: 'x'.repeat(43), code_verifier: verifier, redirect_uri: REDIRECT_URI });
    expect(asPublic.status).toBe(401);
    expect(asPublic.body.error).toBe('invalid_client');
  });

  it('cannot start an authorization at /auth: an error page, no redirect to any URI', async () => {
    const { challenge } = pkcePair();
    const response = await app.browser().get(authorizeQuery({
      clientId: INVENTORY_CLIENT_ID, resource: notes.url, scope: 'notes:read', codeChallenge: challenge, codeChallengeMethod: 'S256', state: 's',
    }));
    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('invalid_client');
  });

  it('cannot introspect, even the inventory tokens themselves', async () => {
    const { token } = await inventoryToken(notes.url);
    const answer = await introspect(token, { clientId: INVENTORY_CLIENT_ID, clientSecret: 'anything' });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
  });

  it('cannot be taken by self-registration at /reg: a fresh client_id is issued instead', async () => {
    const registered = await registerClient(app, { client_id: INVENTORY_CLIENT_ID });
    expect(registered.client_id).not.toBe(INVENTORY_CLIENT_ID);
  });

  it('cannot be named by an operator: client add has no client id option, and the id is not there to disable, remove or list', async () => {
    await expect(cli(['client', 'add', '--name', 'Impostor', '--confidential', '--redirect-uri', REDIRECT_URI, '--id', INVENTORY_CLIENT_ID]))
      .rejects.toThrow('unknown option --id');
    await expect(cli(['client', 'disable', '--id', INVENTORY_CLIENT_ID])).rejects.toThrow(`no registered client with id ${INVENTORY_CLIENT_ID}`);
    await expect(cli(['client', 'delete', '--id', INVENTORY_CLIENT_ID])).rejects.toThrow(`no registered client with id ${INVENTORY_CLIENT_ID}`);
    const listed = await cli(['client', 'list']);
    expect(JSON.stringify(listed)).not.toContain(INVENTORY_CLIENT_ID);
  });

  it('leaves nothing stored after inventories: no client, grant or token row that a portal or console could show', async () => {
    const { rows } = await app.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM oidc_models WHERE id = $1 OR payload->>'clientId' = $1 OR payload->>'client_id' = $1 OR payload->>'accountId' = $1`,
      [INVENTORY_CLIENT_ID]);
    expect(rows[0]?.n).toBe(0);
    const { rows: grants } = await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Grant'`);
    expect(grants[0]?.n).toBe(0);
  });
});
