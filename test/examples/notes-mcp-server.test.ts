// The example MCP server against a real Portcullis: its RFC 9728 document, the 401 challenge, a
// Portcullis-issued token calling tools over raw JSON-RPC, per-tool step-up (403), and DNS-rebinding refusals.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { approvedAccessToken, callTool, fetchRoutingIssuerTo, initialize, rpc, toolText } from './mcp-http.ts';

let app: TestApp;
let notes: NotesServer;
let email: string;
let clientId: string;

beforeAll(async () => {
  app = await createTestApp();
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource(notesResource(notes.url));
  await app.addResource(notesResource('https://other.example.com/mcp'));
  email = (await app.addUser()).email;
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

const tokenFor = (scope: string, resource = notes.url) => approvedAccessToken(app, { email, clientId, resource, scope });

const origin = () => `http://127.0.0.1:${notes.port}`;
const metadataUrl = () => `http://localhost:${notes.port}/.well-known/oauth-protected-resource/mcp`;

describe('example MCP server', () => {
  it('serves its protected resource metadata, naming Portcullis as its authorization server', async () => {
    const response = await request(origin()).get('/.well-known/oauth-protected-resource/mcp');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      resource: `http://localhost:${notes.port}/mcp`,
      authorization_servers: [ISSUER],
      scopes_supported: ['notes:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'Notes (Portcullis example)',
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
    });
    expect(notes.resourceMetadataUrl).toBe(metadataUrl());
  });

  it('answers a request without a token with 401 and a challenge pointing at the metadata', async () => {
    const answer = await rpc(notes.url, undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl()}", scope="notes:read"`);
  });

  it('refuses a Portcullis token issued for another resource (401 invalid_token)', async () => {
    const answer = await rpc(notes.url, await tokenFor('notes:read', 'https://other.example.com/mcp'), { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", .*resource_metadata="/);
  });

  it('runs list_notes for a Portcullis-issued token: initialize, then tools/call', async () => {
    const token = await tokenFor('notes:read');
    const init = await initialize(notes.url, token);
    expect(init.status, init.text).toBe(200);
    expect(init.message?.result).toMatchObject({ serverInfo: { name: 'portcullis-notes-example' }, capabilities: { tools: {} } });
    const listed = await callTool(notes.url, token, 'list_notes');
    expect(listed.status, listed.text).toBe(200);
    expect(toolText(listed)).toBe('You have no notes.');
  });

  it('lists the three tools with their input schemas and risk annotations', async () => {
    const answer = await rpc(notes.url, await tokenFor('notes:read'), { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const tools = answer.message?.result?.tools as { name: string; annotations?: Record<string, unknown>; inputSchema: { properties?: Record<string, unknown> } }[];
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['add_note', 'delete_all_notes', 'list_notes']);
    expect(byName.list_notes?.annotations?.readOnlyHint).toBe(true);
    expect(byName.delete_all_notes?.annotations?.destructiveHint).toBe(true);
    expect(byName.add_note?.inputSchema.properties).toHaveProperty('text');
  });

  it('answers add_note with only notes:read by a 403 step-up challenge, and adds nothing', async () => {
    const token = await tokenFor('notes:read');
    const answer = await callTool(notes.url, token, 'add_note', { text: 'should not be stored' });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="this tool call needs the scope notes:write", `
      + `resource_metadata="${metadataUrl()}", scope="notes:read notes:write"`);
    expect(toolText(await callTool(notes.url, token, 'list_notes'))).not.toContain('should not be stored');
  });

  it('keeps notes per person: add_note with notes:write, then list_notes shows it; delete needs notes:delete', async () => {
    const token = await tokenFor('notes:read notes:write');
    const added = await callTool(notes.url, token, 'add_note', { text: 'buy oat milk' });
    expect(toolText(added)).toBe('Added note 1.');
    expect(toolText(await callTool(notes.url, token, 'list_notes'))).toBe('1. buy oat milk');
    const refused = await callTool(notes.url, token, 'delete_all_notes', { confirm: true });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="notes:read notes:write notes:delete"');
    // Another person's token sees none of these notes.
    const other = await app.addUser();
    const otherToken = await approvedAccessToken(app, { email: other.email, clientId, resource: notes.url, scope: 'notes:read' });
    expect(toolText(await callTool(notes.url, otherToken, 'list_notes'))).toBe('You have no notes.');
  });

  it('checks tool input against its schema (add_note without text is an error, not a note)', async () => {
    const token = await tokenFor('notes:read notes:write');
    const answer = await callTool(notes.url, token, 'add_note', {});
    expect(answer.status).toBe(200);
    expect(answer.message?.result).toMatchObject({ isError: true });
    expect(toolText(answer)).toMatch(/^Input validation error: .*text/);
    // delete_all_notes insists on confirm: true, so an empty call deletes nothing.
    const unconfirmed = await callTool(notes.url, await tokenFor('notes:delete'), 'delete_all_notes', {});
    expect(unconfirmed.message?.result).toMatchObject({ isError: true });
  });
});

describe('DNS-rebinding protection', () => {
  it('refuses a foreign Host header with 403 before anything else, metadata included', async () => {
    for (const path of ['/mcp', '/.well-known/oauth-protected-resource/mcp']) {
      const response = await request(origin()).post(path).set('Host', 'attacker.example.com').send({});
      expect(response.status, path).toBe(403);
      expect(response.headers['www-authenticate']).toBeUndefined();
      expect(response.text).not.toContain('authorization_servers');
    }
  });

  it('refuses a foreign Origin with 403, and lets its own origin through to the token check', async () => {
    const foreign = await request(origin()).post('/mcp').set('Origin', 'http://attacker.example.com').send({});
    expect(foreign.status).toBe(403);
    expect(foreign.headers['www-authenticate']).toBeUndefined();
    const own = await request(origin()).post('/mcp').set('Origin', `http://localhost:${notes.port}`).send({});
    expect(own.status).toBe(401);
  });

  it('refuses a foreign Origin even with a valid token', async () => {
    const answer = await rpc(notes.url, await tokenFor('notes:read'), { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { Origin: 'http://rebound.example.com' });
    expect(answer.status).toBe(403);
  });
});
