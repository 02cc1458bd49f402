// End to end with the MCP SDK v2 client's CrossAppAccessProvider (SEP-990): the SDK discovers Portcullis
// from the notes server's RFC 9728 document, asks our IdP stand-in for an ID-JAG, trades it at the
// jwt-bearer grant and calls list_notes, with no browser.
import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { registerClient } from '../../src/clients/service.ts';
import { addIdJagIssuer, allowClientIdJag, linkIdJagSubject } from '../../src/id-jag/service.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { fetchRoutingIssuerTo } from '../examples/mcp-http.ts';

const IDP = 'https://idp.acme.test';
let app: TestApp;
let notes: NotesServer;

beforeAll(async () => {
  app = await createTestApp();
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource(notesResource(notes.url));
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

describe('MCP SDK v2 CrossAppAccessProvider against Portcullis', () => {
  it('connects and calls list_notes with an ID-JAG-issued token', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    await addIdJagIssuer(app.db, { issuer: IDP, jwks: { keys: [await exportJWK(publicKey)] } }, CLI_OPERATOR);
    const account = await app.addUser();
    await linkIdJagSubject(app.db, { issuer: IDP, subject: 'U0194', accountId: account.id }, CLI_OPERATOR);
    const client = await registerClient(app.db, { kind: 'confidential', name: 'Agent', redirectUris: ['https://agent.example/cb'] }, CLI_OPERATOR);
    await allowClientIdJag(app.db, client.clientId, CLI_OPERATOR);

    const asked: { audience: string; resource: string }[] = [];
    const provider = new CrossAppAccessProvider({
      clientId: client.clientId, clientSecret: client.clientSecret!, expectedIssuer: ISSUER,
      fetchFn: fetchRoutingIssuerTo(app.server),
      // The IdP stand-in: what the IdP's RFC 8693 token exchange would return for this audience and resource.
      assertion: async (ctx) => {
        asked.push({ audience: ctx.authorizationServerUrl, resource: ctx.resourceUrl });
        return new SignJWT({ sub: 'U0194', resource: ctx.resourceUrl, client_id: client.clientId, jti: crypto.randomUUID(), scope: 'notes:read' })
          .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(IDP).setAudience(ISSUER)
          .setIssuedAt().setExpirationTime('5m').sign(privateKey);
      },
    });
    const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: provider, fetch: fetchRoutingIssuerTo(app.server) });
    const mcp = new Client({ name: 'id-jag-e2e', version: '1.0.0' });
    await mcp.connect(transport);
    try {
      const result = await mcp.callTool({ name: 'list_notes', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'You have no notes.' }]);
      expect(asked).toHaveLength(1);
    } finally {
      await mcp.close();
    }
  });
});
