// End to end for machine clients (MCP ext-auth OAuth Client Credentials, SEP-1046): the operator registers
// them with the CLI's own code, oauth4webapi discovers Portcullis, takes a client_credentials token with a
// secret and with private_key_jwt, and the example notes server accepts it as the client's own (no person).
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { createResourceServer } from '../../packages/resource-server/src/index.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { CIMD_DEV_ENV, startDocumentServer, type DocumentServer } from '../cimd/document-server.ts';
import { callTool, fetchRoutingIssuerTo, initialize, toolText } from '../examples/mcp-http.ts';

let app: TestApp;
let notes: NotesServer;
let as: oauth.AuthorizationServer;
let routed: typeof fetch;
let secretClient: { client_id: string; client_secret: string };
let keyClient: { client_id: string };
let privateKey: CryptoKey;
let jwksServer: DocumentServer;

const options = () => ({ [oauth.customFetch]: routed, [oauth.allowInsecureRequests]: true });

beforeAll(async () => {
  // A JWKS served over https on loopback, which the development settings (CIMD_ALLOW_LOOPBACK, the test
  // CA) let oidc-provider's fetch reach, under the same rules as metadata documents (src/cimd/provider-fetch.ts).
  app = await createTestApp(CIMD_DEV_ENV);
  jwksServer = await startDocumentServer();
  routed = fetchRoutingIssuerTo(app.server);
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: routed });
  await app.addResource(notesResource(notes.url));
  secretClient = await runCommand(app.db, ['client', 'add', '--machine', '--name', 'Nightly digest', '--resource', notes.url,
    '--scope', 'notes:read', '--scope', 'notes:write']) as typeof secretClient;
  const keys = await generateKeyPair('ES256');
  privateKey = keys.privateKey;
  const dir = mkdtempSync(join(tmpdir(), 'pc-jwks-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'agent-1', alg: 'ES256', use: 'sig' }] }));
  keyClient = await runCommand(app.db, ['client', 'add', '--machine', '--name', 'Indexer', '--resource', notes.url,
    '--scope', 'notes:read', '--jwks', join(dir, 'jwks.json')]) as typeof keyClient;
  const issuer = new URL(ISSUER);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options(), algorithm: 'oauth2' }));
});
afterAll(async () => {
  await jwksServer?.close();
  await notes?.close();
  await app?.close();
});

async function clientCredentials(client: oauth.Client, auth: oauth.ClientAuth, parameters: Record<string, string>) {
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, parameters, options());
  return oauth.processClientCredentialsResponse(as, client, response);
}

describe('machine clients with oauth4webapi', () => {
  it('the metadata lists the grant and what machine clients authenticate with', () => {
    expect(as.grant_types_supported).toContain('client_credentials');
    expect(as.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_basic', 'client_secret_post']));
    expect(as.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
    expect(as.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
  });

  it('a client with a secret gets a token for its resource and adds and lists notes of its own', async () => {
    expect(secretClient.client_secret).toEqual(expect.any(String));
    const tokens = await clientCredentials({ client_id: secretClient.client_id }, oauth.ClientSecretBasic(secretClient.client_secret),
      { resource: notes.url, scope: 'notes:read notes:write' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('notes:read notes:write');
    expect(tokens.refresh_token).toBeUndefined();
    // The resource's lifetime (notesResource: ACCESS_TOKEN_TTL_SECONDS, 300 s by default).
    expect(tokens.expires_in).toBe(300);

    const token = tokens.access_token;
    expect((await initialize(notes.url, token)).status).toBe(200);
    const added = await callTool(notes.url, token, 'add_note', { text: 'nightly run done' });
    expect(toolText(added)).toBe('Added note 1.');
    expect(toolText(await callTool(notes.url, token, 'list_notes'))).toBe('1. nightly run done');
  });

  it('a client with keys signs a private_key_jwt assertion and gets a token the kit reads as the client\'s own', async () => {
    const tokens = await clientCredentials({ client_id: keyClient.client_id }, oauth.PrivateKeyJwt({ key: privateKey, kid: 'agent-1' }),
      { resource: notes.url });
    // No scope asked: the allowed reversible scopes.
    expect(tokens.scope).toBe('notes:read');
    const listed = await callTool(notes.url, tokens.access_token, 'list_notes');
    expect(toolText(listed)).toBe('You have no notes.');
    // Another client's notes stay its own: the token names this client.
    const kit = createResourceServer({ resource: notes.url, issuer: ISSUER, fetch: routed });
    const info = await kit.verifyAccessToken(tokens.access_token);
    expect(info).toMatchObject({ clientId: keyClient.client_id, subject: keyClient.client_id, actsFor: 'client', scopes: ['notes:read'] });
    expect(info.claims.aud).toBe(notes.url);

    // Its scope stops at what the operator allowed: add_note needs notes:write.
    const refused = await callTool(notes.url, tokens.access_token, 'add_note', { text: 'x' });
    expect(refused.status).toBe(403);
  });

  it('a wrong key or a secret for a keyed client is refused as invalid_client', async () => {
    const other = await generateKeyPair('ES256');
    await expect(clientCredentials({ client_id: keyClient.client_id }, oauth.PrivateKeyJwt({ key: other.privateKey, kid: 'agent-1' }), { resource: notes.url }))
      .rejects.toMatchObject({ error: 'invalid_client' });
    // Basic credentials get their 401 as a WWW-Authenticate challenge (RFC 6749 §5.2).
    await expect(clientCredentials({ client_id: keyClient.client_id }, oauth.ClientSecretBasic('guess'), { resource: notes.url }))
      .rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
  });

  it('a request for another resource or a scope beyond the allowed ones is refused', async () => {
    const auth = oauth.ClientSecretBasic(secretClient.client_secret);
    const client = { client_id: secretClient.client_id };
    await expect(clientCredentials(client, auth, { resource: 'https://other.example.com/mcp' })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(clientCredentials(client, auth, { resource: notes.url, scope: 'notes:read notes:delete' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('a client registered with --jwks-uri is checked against the key set fetched from that URL', async () => {
    const keys = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    jwksServer.serveJson('/jwks.json', { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'remote-1' }] });
    const url = jwksServer.url('/jwks.json');
    const remote = await runCommand(app.db, ['client', 'add', '--machine', '--name', 'Remote keys', '--resource', notes.url,
      '--scope', 'notes:read', '--jwks-uri', url]) as { client_id: string; token_endpoint_auth_method: string };
    expect(remote.token_endpoint_auth_method).toBe('private_key_jwt');
    const tokens = await clientCredentials({ client_id: remote.client_id }, oauth.PrivateKeyJwt({ key: keys.privateKey, kid: 'remote-1' }), { resource: notes.url });
    expect(toolText(await callTool(notes.url, tokens.access_token, 'list_notes'))).toBe('You have no notes.');
    expect(jwksServer.hits.get('/jwks.json')).toBeGreaterThanOrEqual(1);
  });
});
