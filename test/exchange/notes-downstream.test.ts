// End to end: the example notes MCP server's list_events tool exchanges the person's token (RFC 8693, the
// kit's exchangeToken) and calls the example downstream API, which sees `act`; the original token is refused there.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDownstreamApi, type DownstreamApi } from '../../examples/downstream-api/server.ts';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { registerClient as registerOperatorClient } from '../../src/clients/service.ts';
import { allowExchange, denyExchange } from '../../src/exchange/service.ts';
import { exchangeToken, TokenExchangeError } from '../../packages/resource-server/src/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { approvedAccessToken, callTool, fetchRoutingIssuerTo, toolText } from '../examples/mcp-http.ts';

let app: TestApp;
let notes: NotesServer;
let api: DownstreamApi;
let email: string;
let clientId: string;
let server: { clientId: string; clientSecret: string };

beforeAll(async () => {
  app = await createTestApp();
  const fetchAs = fetchRoutingIssuerTo(app.server);
  api = await startDownstreamApi({ port: 0, issuer: ISSUER, fetch: fetchAs });
  await app.addResource({ uri: api.url, name: 'Calendar', scopes: [{ scope: 'calendar:read', risk: 'read', description: 'See your events' }] });
  const port = await freePort();
  const resource = `http://localhost:${port}/mcp`;
  await app.addResource(notesResource(resource));
  await allowExchange(app.db, { from: resource, to: api.url, scopes: ['calendar:read'] }, CLI_OPERATOR);
  const registered = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Notes MCP server', resource }, CLI_OPERATOR);
  server = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
  notes = await startNotesServer({ port, issuer: ISSUER, fetch: fetchAs, downstream: { resource: api.url, ...server } });
  email = (await app.addUser()).email;
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => {
  await notes?.close();
  await api?.close();
  await app?.close();
});

describe('list_events: a downstream call with an exchanged token', () => {
  it('works, and the downstream API sees the person as sub and the MCP server as act', async () => {
    const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read' });
    const person = decodeJwt(token).sub!;
    api.events.set(person, ['Standup 09:30', 'Review 14:00']);
    const answer = await callTool(notes.url, token, 'list_events');
    expect(answer.status, answer.text).toBe(200);
    expect(toolText(answer)).toBe('Standup 09:30\nReview 14:00');
    expect(api.calls.at(-1)).toEqual({ subject: person, actor: server.clientId, clientId: server.clientId, scopes: ['calendar:read'] });
  });

  it('the original token (audience: the notes server) is refused by the downstream API', async () => {
    const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read' });
    const response = await fetch(`${api.url}/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it('an exchanged token is good for the downstream API only: the notes server refuses it', async () => {
    const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read' });
    const exchanged = await exchangeToken({ issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server), ...server, subjectToken: token, resource: api.url });
    expect(exchanged.scopes).toEqual(['calendar:read']);
    expect((await callTool(notes.url, exchanged.accessToken, 'list_notes')).status).toBe(401);
  });

  it('the kit throws TokenExchangeError with the server\'s code; the tool says so once the chain is denied', async () => {
    const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read' });
    const attempt = exchangeToken({ issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server), ...server, subjectToken: token, resource: api.url, scope: 'calendar:write' });
    await expect(attempt).rejects.toBeInstanceOf(TokenExchangeError);
    await expect(attempt).rejects.toMatchObject({ code: 'invalid_scope', status: 400 });
    await expect(exchangeToken({ issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server), clientId: server.clientId, clientSecret: 'wrong', subjectToken: token, resource: api.url }))
      .rejects.toMatchObject({ code: 'invalid_client', status: 401 });
    await expect(exchangeToken({ issuer: 'http://127.0.0.1:9', subjectToken: token, resource: api.url, ...server, timeoutMs: 500 }))
      .rejects.toMatchObject({ code: 'temporarily_unavailable' });

    await denyExchange(app.db, { from: notes.url, to: api.url }, CLI_OPERATOR);
    const answer = await callTool(notes.url, token, 'list_events');
    expect(answer.message?.result?.isError).toBe(true);
    expect(toolText(answer)).toBe('The calendar could not be reached: token exchange refused (unauthorized_client)');
    await allowExchange(app.db, { from: notes.url, to: api.url, scopes: ['calendar:read'] }, CLI_OPERATOR);
  });
});
