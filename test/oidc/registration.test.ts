// Dynamic client registration (RFC 7591) as MCP clients use it: public clients, redirect URIs fit for
// the application type, the PRM `scope` field accepted, and what self-registration must never allow.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { obtainCode } from '../helpers/oauth-flow.ts';

let app: TestApp;
// This file registers many clients from one address: lift the per-IP limit (registration-limits.test.ts tests it).
beforeAll(async () => { app = await createTestApp({ REGISTRATION_MAX_PER_IP: '1000' }); await app.addResource(notesResource()); });
afterAll(async () => app?.close());

const register = (metadata: Record<string, unknown>) => app.http().post('/reg').send({
  client_name: 'Client', redirect_uris: ['http://127.0.0.1:5555/cb'], token_endpoint_auth_method: 'none', ...metadata,
});

const countClients = async () => (await app.db.query(`SELECT 1 FROM oidc_models WHERE model = 'Client'`)).rowCount;

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
    ['non-loopback http', 'http://app.example.com/callback'],
    ['non-loopback http for a native client', 'http://192.168.1.10:8080/callback', 'native'],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: for a native client', 'javascript:alert(1)', 'native'],
    ['data:', 'data:text/html,hi'],
    ['file:', 'file:///etc/passwd', 'native'],
    ['a fragment', 'https://app.example.com/cb#frag'],
    ['a fragment on loopback', 'http://127.0.0.1:5555/cb#frag'],
    ['a wildcard host', 'https://*.example.com/cb'],
    ['a wildcard path', 'https://app.example.com/*'],
    ['a private-use scheme without a dot', 'myapp:/callback', 'native'],
    ['a relative URI', '/callback'],
  ])('refuses %s with invalid_redirect_uri, and stores nothing', async (_label, uri, applicationType?: string) => {
    const before = await countClients();
    const response = await register({ redirect_uris: [uri], ...(applicationType ? { application_type: applicationType } : {}) });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_redirect_uri');
    expect(response.body.error_description).toContain(JSON.stringify(uri));
    expect(await countClients()).toBe(before);
  });

  it('refuses a registration without redirect URIs', async () => {
    const response = await register({ redirect_uris: [] });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_redirect_uri');
  });

  describe('application_type (RFC 8252)', () => {
    it('a web client may use https redirect URIs only', async () => {
      for (const uri of ['http://127.0.0.1:5555/cb', 'http://localhost:5555/cb', 'com.example.app:/callback']) {
        const response = await register({ application_type: 'web', redirect_uris: ['https://app.example.com/cb', uri] });
        expect(response.status, uri).toBe(400);
        expect(response.body.error, uri).toBe('invalid_redirect_uri');
        expect(response.body.error_description, uri).toContain('web client');
      }
      const https = await register({ application_type: 'web', redirect_uris: ['https://app.example.com/cb'] });
      expect(https.status).toBe(201);
      expect(https.body.application_type).toBe('web');
    });

    it('a native client may use loopback http, a private-use scheme in reversed-domain form, and https', async () => {
      const response = await register({
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1:5555/cb', 'http://[::1]/cb', 'com.example.app:/oauth2redirect', 'https://app.example.com/cb'],
      });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.body.application_type).toBe('native');
    });

    it('infers native from loopback or private-use redirect URIs when none is named, web from https only', async () => {
      const privateUse = await register({ redirect_uris: ['com.example.app:/callback'] });
      expect(privateUse.status, JSON.stringify(privateUse.body)).toBe(201);
      expect(privateUse.body.application_type).toBe('native');
      const mixed = await register({ redirect_uris: ['https://app.example.com/cb', 'http://localhost:3000/cb'] });
      expect(mixed.body.application_type).toBe('native');
      const web = await register({ redirect_uris: ['https://app.example.com/cb'] });
      expect(web.body.application_type).toBe('web');
    });

    it('refuses an unknown application_type', async () => {
      const response = await register({ application_type: 'desktop' });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_client_metadata');
    });

    it('a private-use redirect URI completes the authorization: the code is sent to the app\'s scheme', async () => {
      const uri = 'com.example.notes:/oauth/callback';
      const { client_id } = (await register({ redirect_uris: [uri] })).body as { client_id: string };
      const user = await app.addUser();
      const { callback, code } = await obtainCode(app, app.browser(), user.email, {
        clientId: client_id, redirectUri: uri, resource: notesResource().uri, scope: 'notes:read',
      });
      expect(`${callback.protocol}${callback.pathname}`).toBe(uri);
      expect(code).toEqual(expect.any(String));
    });
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
