// The example MCP server in introspection mode: a resource registered with opaque tokens, an
// introspection client, tools that work with a live token and stop working once the grant is revoked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { addIntrospectionClient } from '../../src/clients/store.ts';
import { freePort } from '../helpers/free-port.ts';
import { registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { approvedAccessToken, callTool, fetchRoutingIssuerTo, toolText } from './mcp-http.ts';

let app: TestApp;
let notes: NotesServer;
let email: string;
let clientId: string;

beforeAll(async () => {
  app = await createTestApp();
  // The resource is registered, and its introspection client bound to it, before the server starts.
  const port = await freePort();
  const resource = `http://localhost:${port}/mcp`;
  await app.addResource({ ...notesResource(resource), accessTokenFormat: 'opaque' });
  const introspector = await addIntrospectionClient(app.db, { name: 'Notes example', resource });
  notes = await startNotesServer({
    port, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server),
    // No answer reuse: the revocation below must bite on the very next call.
    introspection: { ...introspector, cacheTtlSeconds: 0 },
  });
  email = (await app.addUser()).email;
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

describe('example MCP server with opaque tokens', () => {
  it('accepts a live opaque token, and refuses it (401) once the grant is revoked', async () => {
    const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read notes:write' });
    expect(token.split('.')).toHaveLength(1);
    expect(toolText(await callTool(notes.url, token, 'add_note', { text: 'opaque works' }))).toBe('Added note 1.');
    expect(toolText(await callTool(notes.url, token, 'list_notes'))).toBe('1. opaque works');

    const grantId = (await app.provider.AccessToken.find(token))?.grantId ?? '';
    await (await app.provider.Grant.find(grantId))?.destroy();
    await app.provider.AccessToken.adapter.revokeByGrantId(grantId);

    const refused = await callTool(notes.url, token, 'list_notes');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('still steps up per tool: notes:read alone cannot add a note (403)', async () => {
    const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read' });
    const answer = await callTool(notes.url, token, 'add_note', { text: 'nope' });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});
