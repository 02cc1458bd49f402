// DPoP (RFC 9449) end to end with oauth4webapi as the client: a listening Portcullis binds the token to the
// client's key, the example notes server verifies every proof, and a resource registered `--dpop required`
// is refused a token request without a proof (authorization_code and refresh_token) and a bearer token.
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { checkProtectedResourceMetadata } from '../../src/resources/metadata-check.ts';
import { requireResource, resourceServiceDeps, updateResource } from '../../src/resources/service.ts';
import { createLiveTestApp, type LiveTestApp } from '../helpers/live-app.ts';
import { checkedScopes, csrfTokenOf, pkcePair, REDIRECT_URI } from '../helpers/oauth-flow.ts';
import { PASSWORD, notesResource } from '../helpers/test-app.ts';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
let portcullis: LiveTestApp;
let notes: NotesServer;
let strict: NotesServer;
let email: string;
let as: oauth.AuthorizationServer;
let client: oauth.Client;

beforeAll(async () => {
  // Resource settings are read fresh on every request (no cache), so a switch to `required` bites at once.
  portcullis = await createLiveTestApp({ RESOURCE_CACHE_SECONDS: '0' });
  notes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  strict = await startNotesServer({ port: 0, issuer: portcullis.issuer, dpop: 'required' });
  await portcullis.addResource(notesResource(notes.url));
  await portcullis.addResource({ ...notesResource(strict.url), dpop: 'required' });
  email = (await portcullis.addUser()).email;
  const issuer = new URL(portcullis.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  const registered = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
    client_name: 'DPoP client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  }, insecure));
  client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
});
afterAll(async () => {
  await strict?.close();
  await notes?.close();
  await portcullis?.close();
});

/** Follows redirects within Portcullis (absolute or relative) until one leaves it or a page renders. */
async function follow(agent: TestAgent, path: string) {
  const origin = new URL(portcullis.issuer).origin;
  let response = await agent.get(path);
  while (response.status >= 300 && response.status < 400) {
    const next = new URL(response.headers.location as string, origin);
    if (next.origin !== origin) return response;
    response = await agent.get(`${next.pathname}${next.search}`);
  }
  return response;
}

/** The person's part: authorize with PKCE and `resource`, sign in, allow; the callback's parameters and the verifier. */
async function authorize(resource: string, scope = 'notes:read') {
  const agent = request.agent(portcullis.issuer);
  const pkce = pkcePair();
  const state = oauth.generateRandomState();
  const query = new URLSearchParams({
    response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, scope, resource, state,
    code_challenge: pkce.challenge, code_challenge_method: 'S256',
  });
  let page = await follow(agent, `/auth?${query}`);
  const interaction = () => new URL(page.request.url).pathname;
  if (page.text.includes('name="password"')) {
    const login = await agent.post(`${interaction()}/login`).type('form').send({ email, password: PASSWORD, csrf: csrfTokenOf(page.text) });
    page = await follow(agent, new URL(login.headers.location as string, portcullis.issuer).pathname);
  }
  if (page.text.includes('name="decision"')) {
    const form = new URLSearchParams({ decision: 'approve', csrf: csrfTokenOf(page.text) });
    for (const s of checkedScopes(page.text)) form.append('scope', s);
    const confirmed = await agent.post(`${interaction()}/confirm`).type('form').send(form.toString());
    const next = new URL(confirmed.headers.location as string, portcullis.issuer);
    page = next.origin === new URL(portcullis.issuer).origin ? await follow(agent, `${next.pathname}${next.search}`) : confirmed;
  }
  expect(page.status, page.text).toBe(303);
  return { params: oauth.validateAuthResponse(as, client, new URL(page.headers.location as string), state), verifier: pkce.verifier };
}

const tokenRequest = (resource: string, dpop: oauth.DPoPHandle | undefined, code: Awaited<ReturnType<typeof authorize>>) =>
  oauth.authorizationCodeGrantRequest(as, client, oauth.None(), code.params, REDIRECT_URI, code.verifier, {
    additionalParameters: { resource }, ...(dpop ? { DPoP: dpop } : {}), ...insecure,
  });

const newKey = async () => oauth.DPoP(client, await oauth.generateKeyPair('ES256'));

const initialize = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'dpop-client', version: '1.0.0' } },
});
const listNotes = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_notes', arguments: {} } });
const mcpHeaders = () => new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' });

/** An MCP request with the token and a fresh proof made by oauth4webapi; returns the response and the headers it sent. */
async function mcpCall(url: string, token: string, dpop: oauth.DPoPHandle | undefined, body = listNotes, method = 'POST') {
  let sent: Record<string, string> = {};
  const response = await oauth.protectedResourceRequest(token, method, new URL(url), mcpHeaders(), body, {
    ...(dpop ? { DPoP: dpop } : {}), ...insecure,
    [oauth.customFetch]: (input, init) => {
      sent = init.headers as Record<string, string>;
      return fetch(input, init as RequestInit);
    },
  }).catch((error: unknown) => (error instanceof oauth.WWWAuthenticateChallengeError ? error.response : Promise.reject(error)));
  return { response, sent, text: await response.text() };
}

/** A proof made by oauth4webapi for `method url`, without sending it anywhere. */
async function proofFor(dpop: oauth.DPoPHandle, token: string, method: string, url: string): Promise<string> {
  let proof = '';
  await oauth.protectedResourceRequest(token, method, new URL(url), new Headers(), null, {
    DPoP: dpop, ...insecure,
    [oauth.customFetch]: async (_input, init) => {
      proof = (init.headers as Record<string, string>).dpop!;
      return new Response('{}', { status: 200 });
    },
  });
  return proof;
}

/** Sends exactly these headers (a replayed or misdirected proof). */
const raw = (url: string, headers: Record<string, string>, body = listNotes) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });

describe('a DPoP-bound token from Portcullis at the notes server (oauth4webapi)', () => {
  it('metadata: Portcullis lists its proof algorithms; the DPoP-required server says bearer tokens are refused', async () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']);
    const prm = await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', strict.url))).json();
    expect(prm).toMatchObject({ resource: strict.url, dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] });
    const plain = await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', notes.url))).json();
    expect(plain).not.toHaveProperty('dpop_bound_access_tokens_required');
  });

  let dpop: oauth.DPoPHandle;
  let tokens: oauth.TokenEndpointResponse;

  it('the token is bound: token_type DPoP, cnf.jkt the key\'s thumbprint; a tool call with a proof works', async () => {
    dpop = await newKey();
    tokens = await oauth.processAuthorizationCodeResponse(as, client, await tokenRequest(notes.url, dpop, await authorize(notes.url)));
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: notes.url, cnf: { jkt: await dpop.calculateThumbprint() } });

    await flushAuditWrites();
    const { rows: issued } = await portcullis.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE event_type = 'token.issued' AND resource = $1 ORDER BY id DESC LIMIT 1`, [notes.url]);
    expect(issued[0]?.details).toMatchObject({ grant_type: 'authorization_code', dpop_jkt: await dpop.calculateThumbprint() });

    const init = await mcpCall(notes.url, tokens.access_token, dpop, initialize);
    expect(init.response.status, init.text).toBe(200);
    expect(init.sent.authorization).toBe(`DPoP ${tokens.access_token}`);
    const listed = await mcpCall(notes.url, tokens.access_token, dpop);
    expect(listed.response.status, listed.text).toBe(200);
    expect(listed.text).toContain('You have no notes.');
  });

  it('a replayed proof is refused (401 invalid_dpop_proof), and so is the bound token sent as Bearer', async () => {
    const first = await mcpCall(notes.url, tokens.access_token, dpop);
    expect(first.response.status).toBe(200);
    const replay = await raw(notes.url, { authorization: first.sent.authorization!, dpop: first.sent.dpop! });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used' });
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", .*algs="ES256 EdDSA Ed25519 PS256 RS256"/);

    const asBearer = await mcpCall(notes.url, tokens.access_token, undefined);
    expect(asBearer.sent.authorization).toBe(`Bearer ${tokens.access_token}`);
    expect(asBearer.response.status).toBe(401);
    expect(asBearer.response.headers.get('www-authenticate')).toBe(
      `DPoP error="invalid_token", error_description="the token is sender-constrained", algs="ES256 EdDSA Ed25519 PS256 RS256", `
      + `resource_metadata="${notes.resourceMetadataUrl}"`);
  });

  it('a proof made for another URL or another method is refused', async () => {
    const otherUrl = await proofFor(dpop, tokens.access_token, 'POST', new URL('/other', notes.url).href);
    const otherPath = await raw(notes.url, { authorization: `DPoP ${tokens.access_token}`, dpop: otherUrl });
    expect(otherPath.status).toBe(401);
    expect(await otherPath.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof is for another URL' });
    const get = await proofFor(dpop, tokens.access_token, 'GET', notes.url);
    const otherMethod = await raw(notes.url, { authorization: `DPoP ${tokens.access_token}`, dpop: get });
    expect(otherMethod.status).toBe(401);
    expect(await otherMethod.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof is for another HTTP method' });
    // A proof by another key, for the right request, does not match cnf.jkt.
    const foreign = await proofFor(await newKey(), tokens.access_token, 'POST', notes.url);
    const stolen = await raw(notes.url, { authorization: `DPoP ${tokens.access_token}`, dpop: foreign });
    expect(await stolen.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof key is not the one the token is bound to' });
  });

  it('a refresh keeps the binding; a refresh with another key is refused and leaves the refresh token usable', async () => {
    const refreshed = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP: dpop, ...insecure }));
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt: await dpop.calculateThumbprint() });
    expect((await mcpCall(notes.url, refreshed.access_token, dpop)).response.status).toBe(200);

    const thief = await newKey();
    const refused = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, { DPoP: thief, ...insecure }))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({ status: 400, error: 'invalid_grant', error_description: 'grant request is invalid' });
    const withoutProof = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure)).catch((error: unknown) => error);
    expect(withoutProof).toMatchObject({ error: 'invalid_grant' });
    // The owner of the key still refreshes with it.
    const again = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, { DPoP: dpop, ...insecure }));
    expect(decodeJwt(again.access_token).cnf).toEqual({ jkt: await dpop.calculateThumbprint() });
  });
});

describe('a resource registered as DPoP-required', () => {
  it('the registration check warns when the server\'s metadata and the --dpop setting disagree', async () => {
    const check = (resourceUri: string, dpop: 'allowed' | 'required') => checkProtectedResourceMetadata({
      resourceUri, issuer: portcullis.issuer, scopes: ['notes:read', 'notes:write', 'notes:delete'], dpop, allowLoopback: true,
    });
    expect((await check(strict.url, 'required')).warnings).toEqual([]);
    expect((await check(notes.url, 'allowed')).warnings).toEqual([]);
    expect((await check(strict.url, 'allowed')).warnings).toEqual([expect.stringMatching(/^the server accepts only DPoP-bound tokens .*use --dpop required\)$/)]);
    expect((await check(notes.url, 'required')).warnings).toEqual([expect.stringMatching(/^this resource is registered --dpop required, but the server's metadata does not say dpop_bound_access_tokens_required/)]);
  });

  it('refuses a code redemption without a proof (invalid_dpop_proof, the code stays usable), then binds with one', async () => {
    const code = await authorize(strict.url);
    const refused = await oauth.processAuthorizationCodeResponse(as, client, await tokenRequest(strict.url, undefined, code)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refused).toMatchObject({
      status: 400, error: 'invalid_dpop_proof',
      error_description: `resource "${strict.url}" accepts only DPoP-bound tokens: send a DPoP proof (RFC 9449) with the token request`,
    });
    const dpop = await newKey();
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await tokenRequest(strict.url, dpop, code));
    expect(tokens.token_type).toBe('dpop');
    const listed = await mcpCall(strict.url, tokens.access_token, dpop);
    expect(listed.response.status, listed.text).toBe(200);

    const { rows } = await portcullis.db.query<{ client_id: string; resource: string; details: { reason: string; grant_type: string } }>(
      `SELECT client_id, resource, details FROM audit_events WHERE event_type = 'token.dpop_required'`);
    expect(rows).toContainEqual({ client_id: client.client_id, resource: strict.url, details: { reason: 'no_dpop_proof', grant_type: 'authorization_code' } });
  });

  it('switched to required: a bearer token issued before is refused by the kit, and its refresh without a proof by Portcullis', async () => {
    // A second DPoP-required kit in front of a resource that is still `allowed` at Portcullis.
    const switching = await startNotesServer({ port: 0, issuer: portcullis.issuer, dpop: 'required' });
    try {
      await portcullis.addResource(notesResource(switching.url));
      const bearer = await oauth.processAuthorizationCodeResponse(as, client, await tokenRequest(switching.url, undefined, await authorize(switching.url)));
      expect(bearer.token_type).toBe('bearer');
      const refusedByKit = await mcpCall(switching.url, bearer.access_token, undefined);
      expect(refusedByKit.response.status).toBe(401);
      expect(refusedByKit.response.headers.get('www-authenticate')).toMatch(
        /^DPoP error="invalid_token", error_description="this resource accepts only DPoP-bound tokens", algs="ES256 EdDSA Ed25519 PS256 RS256"/);

      const deps = resourceServiceDeps(portcullis.db, portcullis.config);
      const current = await requireResource(portcullis.db, switching.url);
      await updateResource(deps, switching.url, { ...current, dpop: 'required' }, CLI_OPERATOR, { check: false });
      const refused = await oauth.processRefreshTokenResponse(as, client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), bearer.refresh_token!, insecure)).catch((error: unknown) => error);
      expect(refused).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
      // Refused before the refresh token was spent: the same one, with a proof, gets a bound token.
      const dpop = await newKey();
      const bound = await oauth.processRefreshTokenResponse(as, client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), bearer.refresh_token!, { DPoP: dpop, ...insecure }));
      expect(bound.token_type).toBe('dpop');
      expect((await mcpCall(switching.url, bound.access_token, dpop)).response.status).toBe(200);
    } finally {
      await switching.close();
    }
  });
});
