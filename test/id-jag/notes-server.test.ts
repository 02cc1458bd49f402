// End to end with the example notes MCP server: an access token from the jwt-bearer grant (an ID-JAG from
// an IdP stand-in) is accepted for list_notes; the person is the linked account.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
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

beforeAll(async () => {
  app = await createTestApp();
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource(notesResource(notes.url));
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

describe('ID-JAG token at the example notes server', () => {
  it('calls list_notes with the access token the jwt-bearer grant issued', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    await addIdJagIssuer(app.db, { issuer: IDP, jwks: { keys: [await exportJWK(publicKey)] } }, CLI_OPERATOR);
    const account = await app.addUser();
    await linkIdJagSubject(app.db, { issuer: IDP, subject: 'U0194', accountId: account.id }, CLI_OPERATOR);
    const client = await registerClient(app.db, { kind: 'confidential', name: 'Agent', redirectUris: ['https://agent.example/cb'] }, CLI_OPERATOR);
    await allowClientIdJag(app.db, client.clientId, CLI_OPERATOR);

    const assertion = await new SignJWT({ sub: 'U0194', resource: notes.url, client_id: client.clientId, jti: crypto.randomUUID(), scope: 'notes:read' })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(IDP).setAudience(ISSUER)
      .setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const response = await app.http().post('/token').type('form').auth(client.clientId, client.clientSecret!)
      .send({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const token = response.body.access_token as string;

    const init = await initialize(notes.url, token);
    expect(init.status, init.text).toBe(200);
    const listed = await callTool(notes.url, token, 'list_notes');
    expect(listed.status, listed.text).toBe(200);
    expect(toolText(listed)).toBe('You have no notes.');
  });
});
