// End to end with the example notes MCP server: an ID-JAG from an IdP stand-in, traded at the jwt-bearer
// grant, reaches list_notes, by hand and through the MCP SDK v2 client's CrossAppAccessProvider (SEP-990),
// which discovers Portcullis from the notes server's RFC 9728 document, with no browser.
import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { registerClient } from '../../src/clients/service.ts';
import { addIdJagIssuer, allowClientIdJag, linkIdJagSubject } from '../../src/id-jag/service.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { callTool, fetchRoutingIssuerTo, initialize, toolText } from '../examples/mcp-http.ts';

const IDP = 'https://idp.acme.test';
let app: TestApp;
let notes: NotesServer;
let idpKey: CryptoKey;
let client: { clientId: string; clientSecret: string };

/** What the IdP's own token exchange would return: an ID-JAG for this client, resource and person. */
const mintIdJag = (resource: string) => new SignJWT({ sub: 'U0194', resource, client_id: client.clientId, jti: crypto.randomUUID(), scope: 'notes:read' })
  .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(IDP).setAudience(ISSUER)
  .setIssuedAt().setExpirationTime('5m').sign(idpKey);

beforeAll(async () => {
  app = await createTestApp();
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource(notesResource(notes.url));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  idpKey = privateKey;
  await addIdJagIssuer(app.db, { issuer: IDP, jwks: { keys: [await exportJWK(publicKey)] } }, CLI_OPERATOR);
  const account = await app.addUser();
  await linkIdJagSubject(app.db, { issuer: IDP, subject: 'U0194', accountId: account.id }, CLI_OPERATOR);
  const registered = await registerClient(app.db, { kind: 'confidential', name: 'Agent', redirectUris: ['https://agent.example/cb'] }, CLI_OPERATOR);
  await allowClientIdJag(app.db, registered.clientId, CLI_OPERATOR);
  client = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

describe('ID-JAG token at the example notes server', () => {
  it('calls list_notes with the access token the jwt-bearer grant issued', async () => {
    const response = await app.http().post('/token').type('form').auth(client.clientId, client.clientSecret)
      .send({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await mintIdJag(notes.url) });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const token = response.body.access_token as string;

    const init = await initialize(notes.url, token);
    expect(init.status, init.text).toBe(200);
    const listed = await callTool(notes.url, token, 'list_notes');
    expect(listed.status, listed.text).toBe(200);
    expect(toolText(listed)).toBe('You have no notes.');
  });

  it('the MCP SDK v2 CrossAppAccessProvider connects and calls list_notes', async () => {
    const asked: { audience: string; resource: string }[] = [];
    const provider = new CrossAppAccessProvider({
      clientId: client.clientId, clientSecret: client.clientSecret, expectedIssuer: ISSUER,
      fetchFn: fetchRoutingIssuerTo(app.server),
      assertion: async (ctx) => {
        asked.push({ audience: ctx.authorizationServerUrl, resource: ctx.resourceUrl });
        return mintIdJag(ctx.resourceUrl);
      },
    });
    const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: provider, fetch: fetchRoutingIssuerTo(app.server) });
    const mcp = new Client({ name: 'id-jag-e2e', version: '1.0.0' });
    await mcp.connect(transport);
    try {
      const result = await mcp.callTool({ name: 'list_notes', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'You have no notes.' }]);
      expect(asked).toEqual([{ audience: ISSUER, resource: notes.url }]);
    } finally {
      await mcp.close();
    }
  });
});
