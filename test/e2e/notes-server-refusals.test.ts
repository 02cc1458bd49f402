// What the example MCP server (through the resource-server kit) refuses, with tokens Portcullis really
// issued or signed with its real key: another resource's token, an expired one, an unknown key's, and
// — in introspection mode — a token whose grant the person has revoked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { createLiveTestApp, type LiveTestApp } from '../helpers/live-app.ts';
import { TEST_SECRETS } from '../helpers/test-app.ts';
import { freePort } from '../helpers/free-port.ts';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { loadSigningJwks } from '../../src/oidc/keys.ts';
import { addIntrospectionClient } from '../../src/clients/store.ts';
import { revokeGrantOfAccount } from '../../src/grants/service.ts';
import { listGrantsForAccount } from '../../src/grants/store.ts';
import { approveAllOffered, Person } from './person.ts';

const SCOPES = [
  { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
  { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
];
const OTHER_RESOURCE = 'https://other.example.com/mcp';
const REDIRECT = 'http://127.0.0.1:43118/callback';

let portcullis: LiveTestApp;
let jwtNotes: NotesServer;
let introspectedNotes: NotesServer;
let account: { id: string; email: string };
beforeAll(async () => {
  portcullis = await createLiveTestApp();
  account = await portcullis.addUser();
  jwtNotes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: jwtNotes.url, name: 'Notes', scopes: SCOPES });
  await portcullis.addResource({ uri: OTHER_RESOURCE, name: 'Other MCP', scopes: SCOPES });
  // Registered, with its introspection client bound to it, before the server starts.
  const port = await freePort();
  const opaqueResource = `http://localhost:${port}/mcp`;
  await portcullis.addResource({ uri: opaqueResource, name: 'Notes (opaque)', scopes: SCOPES, accessTokenFormat: 'opaque' });
  const rs = await addIntrospectionClient(portcullis.db, { name: 'Notes (introspection)', resource: opaqueResource });
  introspectedNotes = await startNotesServer({
    port, issuer: portcullis.issuer, introspection: { clientId: rs.clientId, clientSecret: rs.clientSecret, cacheTtlSeconds: 0 },
  });
});
afterAll(async () => {
  await jwtNotes?.close();
  await introspectedNotes?.close();
  await portcullis?.close();
});

/** A public client's whole code flow for one resource, over HTTP; the person approves what is asked. */
async function obtainTokens(resource: string) {
  const registration = await fetch(`${portcullis.issuer}/reg`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Refusal tests', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
  });
  const { client_id: clientId } = await registration.json() as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${portcullis.issuer}/auth`);
  for (const [key, value] of Object.entries({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'notes:read', resource, state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  })) authorize.searchParams.set(key, value);
  const callback = await new Person(portcullis.issuer, account.email).authorize(authorize, approveAllOffered);
  const token = await fetch(`${portcullis.issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', code_verifier: verifier,
      redirect_uri: REDIRECT, client_id: clientId, resource,
    }),
  });
  expect(token.status).toBe(200);
  return await token.json() as { access_token: string };
}

/** One MCP `initialize` over Streamable HTTP with a bearer token. */
function callMcp(server: NotesServer, token: string) {
  return fetch(server.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'refusals', version: '1' } },
    }),
  });
}

async function expectInvalidToken(response: Response) {
  expect(response.status).toBe(401);
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).toContain('error="invalid_token"');
  expect(challenge).toContain('resource_metadata="');
}

/** A token signed with Portcullis's own current ES256 key: everything right except what a test changes. */
async function forgeWithPortcullisKey(claims: { exp: number; iat: number }) {
  const keys = await loadSigningJwks(portcullis.db, TEST_SECRETS.keyEncryptionSecret);
  const jwk = keys.find((k) => k.alg === 'ES256') as JWK & { kid: string };
  return new SignJWT({ scope: 'notes:read', client_id: 'forged', sub: account.id })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(portcullis.issuer).setAudience(jwtNotes.url).setIssuedAt(claims.iat).setExpirationTime(claims.exp)
    .setJti(randomBytes(8).toString('hex'))
    .sign(await importJWK(jwk, 'ES256'));
}

const now = () => Math.floor(Date.now() / 1000);

describe('the example MCP server refuses', () => {
  it('serves a token Portcullis issued for it (the control for the refusals below)', async () => {
    const { access_token } = await obtainTokens(jwtNotes.url);
    expect((await callMcp(jwtNotes, access_token)).status).toBe(200);
  });

  it('a token issued for another registered resource', async () => {
    const { access_token } = await obtainTokens(OTHER_RESOURCE);
    await expectInvalidToken(await callMcp(jwtNotes, access_token));
  });

  it('an expired token, though signed with the right key (and the same token unexpired passes)', async () => {
    expect((await callMcp(jwtNotes, await forgeWithPortcullisKey({ iat: now() - 60, exp: now() + 240 }))).status).toBe(200);
    await expectInvalidToken(await callMcp(jwtNotes, await forgeWithPortcullisKey({ iat: now() - 600, exp: now() - 300 })));
  });

  it('a token signed by a key Portcullis does not publish', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ scope: 'notes:read', client_id: 'forged', sub: account.id })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'at+jwt' })
      .setIssuer(portcullis.issuer).setAudience(jwtNotes.url).setIssuedAt().setExpirationTime('5m')
      .sign(privateKey);
    await expectInvalidToken(await callMcp(jwtNotes, token));
  });

  it('in introspection mode, a token whose grant was revoked, at once', async () => {
    const { access_token } = await obtainTokens(introspectedNotes.url);
    expect(access_token.split('.')).toHaveLength(1); // opaque, not a JWT
    expect((await callMcp(introspectedNotes, access_token)).status).toBe(200);
    const grants = await listGrantsForAccount(portcullis.db, account.id);
    const grantId = grants.find((g) => g.resources.some((r) => r.uri === introspectedNotes.url))?.grantId;
    expect(grantId).toEqual(expect.any(String));
    expect(await revokeGrantOfAccount(portcullis.provider, portcullis.db, account.id, grantId!)).toBe(true);
    await expectInvalidToken(await callMcp(introspectedNotes, access_token));
  });
});
