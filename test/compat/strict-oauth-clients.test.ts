// The strict generic OAuth clients, oauth4webapi and openid-client (panva), against Portcullis and the
// notes server, with the person in headless Chromium. Each library's own validation does the judging:
// RFC 8414 metadata (issuer equality), RFC 9728 resource metadata, RFC 9207 `iss` in the authorization
// response, RFC 9068 JWT access tokens (oauth4webapi's validateJwtAccessToken), rotation and revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { startCallbackServer, type CallbackServer } from '../browser/harness.ts';
import { approveInBrowser, openPage, startCompatStack, type CompatStack } from './stack.ts';

let stack: CompatStack;
let callback: CallbackServer;
beforeAll(async () => {
  stack = await startCompatStack();
  callback = await startCallbackServer();
});
afterAll(async () => {
  await callback?.close();
  await stack?.close();
});

// Both libraries refuse plain http unless told: the test stack runs on loopback http, as local development does.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** An MCP initialize through the notes server with `token`: what a tool call would get. */
async function initializeWith(token: string): Promise<Response> {
  return fetch(stack.notes.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'strict-client', version: '1.0.0' } },
    }),
  });
}

describe('oauth4webapi', () => {
  it('discovers through RFC 9728 and RFC 8414, registers, and every response passes its own validation', async () => {
    const resource = new URL(stack.notes.url);
    // RFC 9728: the resource identifier in the metadata must equal the URL the client asked about.
    const rs = await oauth.processResourceDiscoveryResponse(resource, await oauth.resourceDiscoveryRequest(resource, insecure));
    expect(rs.authorization_servers).toEqual([stack.portcullis.issuer]);
    const issuer = new URL(rs.authorization_servers![0]!);

    // RFC 8414 (and OpenID Discovery for the `oidc` spelling): the metadata's issuer equals the issuer.
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const oidc = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
    expect(oidc.token_endpoint).toBe(as.token_endpoint);
    expect(as).toMatchObject({
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
    });

    const registered = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
      client_name: 'oauth4webapi client', redirect_uris: [callback.redirectUri], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    }, insecure));
    const app: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authorize = new URL(as.authorization_endpoint!);
    authorize.search = new URLSearchParams({
      response_type: 'code', client_id: app.client_id, redirect_uri: callback.redirectUri, scope: 'notes:read',
      resource: resource.href, state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).toString();
    const page = await openPage(stack.browser);
    const arrived = callback.next();
    await approveInBrowser(page, authorize.href, stack.email);
    const query = await arrived;

    // RFC 9207: the metadata says `iss` is sent, so the library requires it and compares it.
    const forged = new URLSearchParams(query);
    forged.set('iss', 'https://attacker.example');
    expect(() => oauth.validateAuthResponse(as, app, forged, state)).toThrow(/"iss"/);
    const withoutIss = new URLSearchParams(query);
    withoutIss.delete('iss');
    expect(() => oauth.validateAuthResponse(as, app, withoutIss, state)).toThrow(/"iss"/);
    const params = oauth.validateAuthResponse(as, app, query, state);

    const tokens = await oauth.processAuthorizationCodeResponse(as, app, await oauth.authorizationCodeGrantRequest(
      as, app, oauth.None(), params, callback.redirectUri, verifier, { additionalParameters: { resource: resource.href }, ...insecure }));
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'notes:read', refresh_token: expect.any(String) });

    // RFC 9068 as the library checks it: typ at+jwt, signature from jwks_uri, iss, aud, exp, iat, sub,
    // client_id and jti present.
    const request = new Request(resource, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, resource.href, insecure);
    expect(claims).toMatchObject({ iss: issuer.href.replace(/\/$/, ''), aud: resource.href, sub: stack.personId, client_id: app.client_id, scope: 'notes:read' });
    // A token for this resource is no token for another one.
    await expect(oauth.validateJwtAccessToken(as, request, 'http://localhost:1/other', insecure)).rejects.toThrow(/"aud"/);
    expect((await initializeWith(tokens.access_token)).status).toBe(200);

    // Rotation, then RFC 7009 revocation: the revoked refresh token is refused with invalid_grant.
    const rotated = await oauth.processRefreshTokenResponse(as, app, await oauth.refreshTokenGrantRequest(as, app, oauth.None(), tokens.refresh_token!, insecure));
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect((await oauth.validateJwtAccessToken(as, new Request(resource, { headers: { authorization: `Bearer ${rotated.access_token}` } }), resource.href, insecure)).scope)
      .toBe('notes:read');
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, app, oauth.None(), rotated.refresh_token!, insecure));
    const afterRevocation = oauth.processRefreshTokenResponse(as, app, await oauth.refreshTokenGrantRequest(as, app, oauth.None(), rotated.refresh_token!, insecure));
    await expect(afterRevocation).rejects.toMatchObject({ error: 'invalid_grant' });
    await page.context().close();
  });
});

describe('openid-client', () => {
  it('registers, authorizes with PKCE and resource, checks iss and state itself, refreshes and calls the resource', async () => {
    const resource = stack.notes.url;
    // Discovery with OpenID Connect's well-known URL (the library's default), then RFC 7591 registration.
    const config = await client.dynamicClientRegistration(new URL(stack.portcullis.issuer), {
      client_name: 'openid-client client', redirect_uris: [callback.redirectUri], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    }, client.None(), { execute: [client.allowInsecureRequests] });
    expect(config.serverMetadata().issuer).toBe(stack.portcullis.issuer);
    expect(config.serverMetadata().supportsPKCE()).toBe(true);

    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorize = client.buildAuthorizationUrl(config, {
      redirect_uri: callback.redirectUri, scope: 'notes:read', resource, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const page = await openPage(stack.browser);
    const arrived = callback.next();
    const landed = await approveInBrowser(page, authorize.href, stack.email);
    await arrived;

    // The library validates iss (RFC 9207) and state before it redeems: a forged iss never reaches /token.
    const forged = new URL(landed);
    forged.searchParams.set('iss', 'https://attacker.example');
    const refused = await client.authorizationCodeGrant(config, forged, { pkceCodeVerifier: verifier, expectedState: state }, { resource })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'OAUTH_INVALID_RESPONSE', cause: { message: expect.stringContaining('"iss"') } });
    const tokens = await client.authorizationCodeGrant(config, landed, { pkceCodeVerifier: verifier, expectedState: state }, { resource });
    expect(tokens.scope).toBe('notes:read');
    expect(tokens.expiresIn()).toBeGreaterThanOrEqual(120);

    const answer = await client.fetchProtectedResource(config, tokens.access_token, new URL(resource), 'POST', JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'openid-client', version: '1.0.0' } },
    }), new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' }));
    expect(answer.status).toBe(200);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource });
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await initializeWith(refreshed.access_token)).status).toBe(200);
    // RFC 7009: once revoked, the refresh token is refused.
    await client.tokenRevocation(config, refreshed.refresh_token!);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await page.context().close();
  });
});
