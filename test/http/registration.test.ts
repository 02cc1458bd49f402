// Dynamic client registration (RFC 7591) as MCP clients use it: public clients, https or loopback
// redirect URIs, the PRM `scope` field accepted, and what self-registration must never allow.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => { app = await createTestApp(); await app.addResource(notesResource()); });
afterAll(async () => app?.close());

const register = (metadata: Record<string, unknown>) => app.http().post('/reg').send({
  client_name: 'Client', redirect_uris: ['http://127.0.0.1:5555/cb'], token_endpoint_auth_method: 'none', ...metadata,
});

describe('dynamic client registration', () => {
  it('registers a public MCP client that sends scope and application_type, with refresh allowed by default', async () => {
    const response = await register({ scope: 'notes:read notes:write', application_type: 'native', grant_types: undefined });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.client_id).toEqual(expect.any(String));
    expect(response.body.client_secret).toBeUndefined();
    expect(response.body.token_endpoint_auth_method).toBe('none');
    expect(response.body.grant_types).toEqual(['authorization_code', 'refresh_token']);
    const { rows } = await app.db.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM oidc_models WHERE model = 'Client' AND id = $1", [response.body.client_id]);
    expect(rows[0]!.payload.portcullis_source).toBe('dynamic_registration');
  });

  it('accepts an https redirect URI for a web client', async () => {
    const response = await register({ redirect_uris: ['https://app.example.com/callback'], application_type: 'web' });
    expect(response.status).toBe(201);
  });

  it('treats a client with only loopback redirect URIs and no application_type as native', async () => {
    const response = await register({});
    expect(response.status).toBe(201);
    expect(response.body.application_type).toBe('native');
  });

  it.each([
    ['non-loopback http', ['http://app.example.com/callback'], 'invalid_redirect_uri'],
    ['javascript:', ['javascript:alert(1)'], 'invalid_redirect_uri'],
    ['data:', ['data:text/html,hi'], 'invalid_redirect_uri'],
    ['a fragment', ['https://app.example.com/cb#frag'], 'invalid_redirect_uri'],
    ['a wildcard', ['https://*.example.com/cb'], 'invalid_redirect_uri'],
    ['no redirect URIs', [], 'invalid_redirect_uri'],
  ])('refuses %s', async (_label, redirectUris, error) => {
    const response = await register({ redirect_uris: redirectUris });
    expect(response.status).toBe(400);
    expect([error, 'invalid_client_metadata']).toContain(response.body.error);
  });

  it('holds post-logout redirect URIs to the same rules', async () => {
    const response = await register({ post_logout_redirect_uris: ['http://evil.example/after-logout'] });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_redirect_uri');
  });

  it('never fetches a URL a self-registering client names (sector_identifier_uri, jwks_uri, request_uris)', async () => {
    let connections = 0;
    const listener = createServer((socket) => { connections += 1; socket.destroy(); });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const target = `https://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    try {
      for (const metadata of [{ sector_identifier_uri: `${target}/sector` }, { jwks_uri: `${target}/jwks` }, { request_uris: [`${target}/request`] }]) {
        const response = await register(metadata);
        expect(response.status, JSON.stringify(metadata)).toBe(400);
        expect(response.body.error).toBe('invalid_client_metadata');
      }
      expect(connections).toBe(0);
    } finally {
      listener.close();
    }
  });

  it('refuses confidential self-registration', async () => {
    const response = await register({ token_endpoint_auth_method: 'client_secret_basic' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_client_metadata');
  });

  it('refuses implicit and password grant types', async () => {
    for (const grantTypes of [['implicit'], ['password'], ['authorization_code', 'client_credentials']]) {
      const response = await register({ grant_types: grantTypes });
      expect(response.status, JSON.stringify(grantTypes)).toBe(400);
      expect(response.body.error).toBe('invalid_client_metadata');
    }
  });

  it('refuses a body that is not a JSON object', async () => {
    const response = await app.http().post('/reg').set('Content-Type', 'application/json').send('[1,2]');
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  it('an unknown client at the token endpoint gets invalid_client (401)', async () => {
    const response = await app.http().post('/token').type('form').send({ grant_type: 'refresh_token', client_id: 'deleted-client', refresh_token: 'x' });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
  });
});
