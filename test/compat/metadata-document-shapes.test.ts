// Client ID Metadata Documents in the shapes real MCP hosts publish: a desktop editor's (native, loopback
// and https redirects, grant types we do not offer), a web host's, OpenID Connect RP Metadata Choices
// lists, private_key_jwt with keys at a jwks_uri, and `none` with extra fields. Each is accepted where
// the CIMD draft and MCP 2025-11-25 allow it, through to a token; the rest are refused with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { REDIRECT_URI, authorizeQuery, exchangeCode, follow, obtainCode, pkcePair } from '../helpers/oauth-flow.ts';
import type { TestApp } from '../helpers/test-app.ts';
import { clientDocument, type DocumentServer } from '../cimd/document-server.ts';
import { startCimdTestApp, stopCimdTestApp } from '../cimd/cimd-test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
const WEB_REDIRECT = 'https://app.example.com/api/mcp/auth_callback';
let app: TestApp;
let docs: DocumentServer;
let email: string;
let keys: { privateKey: CryptoKey; jwks: { keys: Record<string, unknown>[] } };
beforeAll(async () => {
  ({ app, docs, email } = await startCimdTestApp(NOTES));
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  keys = { privateKey, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] } };
});
afterAll(() => stopCimdTestApp({ app, docs }));

/** Serves `document` (its client_id filled in) at `path` and returns the client_id. */
function publish(path: string, document: (clientId: string) => Record<string, unknown>): string {
  const clientId = docs.url(path);
  docs.serveJson(path, document(clientId));
  return clientId;
}

/** Sign-in, consent and code exchange; `extra` authenticates the token request. */
async function tokenFor(clientId: string, redirectUri = REDIRECT_URI, extra: Record<string, string> = {}) {
  const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read', redirectUri });
  expect(code).toEqual(expect.any(String));
  return exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, redirect_uri: redirectUri, ...extra });
}

/** RFC 7523 client authentication, as a private_key_jwt client sends it. */
async function clientAssertion(clientId: string) {
  const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(clientId).setSubject(clientId)
    .setAudience('http://localhost:4000/token').setJti(crypto.randomUUID()).setIssuedAt().setExpirationTime('1m').sign(keys.privateKey);
  return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
}

async function storedMetadata(clientId: string): Promise<Record<string, unknown>> {
  const { rows } = await app.db.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM client_metadata_documents WHERE client_id = $1', [clientId]);
  return rows[0]!.metadata;
}

/** The authorization request is refused on an error page (never redirected) that says why. */
async function expectRefused(clientId: string, reason: RegExp) {
  const page = await follow(app.browser(), authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  expect(page.status, page.text).toBe(400);
  expect(page.headers.location).toBeUndefined();
  expect(page.text).toContain('invalid_client');
  expect(page.text).toMatch(reason);
}

describe('metadata documents as real hosts publish them: accepted', () => {
  it('a desktop editor: native, a loopback and an https redirect, a device-code grant we do not offer (dropped)', async () => {
    const clientId = publish('/editor/client-metadata.json', (id) => ({
      client_id: id, client_name: 'Desktop Editor', client_uri: 'https://editor.example.com', logo_uri: 'https://editor.example.com/logo.png',
      redirect_uris: [REDIRECT_URI, 'https://editor.example.com/redirect'], application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'], token_endpoint_auth_method: 'none',
    }));
    const token = await tokenFor(clientId);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({ client_id: clientId, aud: NOTES });
    expect(token.body.refresh_token).toEqual(expect.any(String));
    expect(await storedMetadata(clientId)).toMatchObject({ grant_types: ['authorization_code', 'refresh_token'], application_type: 'native' });
  });

  it('a web host: https redirect only, no application_type (web), `none`, with fields we ignore', async () => {
    const clientId = publish('/oauth/mcp-oauth-client-metadata', (id) => ({
      ...clientDocument(id, WEB_REDIRECT, { client_name: 'Web Host' }),
      client_uri: 'https://app.example.com', scope: 'openid profile', contacts: ['security@app.example.com'],
      software_id: 'web-host', software_version: '2026.11', dpop_bound_access_tokens: false,
    }));
    const token = await tokenFor(clientId, WEB_REDIRECT);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(await storedMetadata(clientId)).toMatchObject({ application_type: 'web', token_endpoint_auth_method: 'none' });
  });

  it('RP Metadata Choices with no keys: of client_secret_basic and none, the public client', async () => {
    const clientId = publish('/choices/public.json', (id) => {
      const { token_endpoint_auth_method: _single, ...document } = clientDocument(id, REDIRECT_URI);
      return { ...document, token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'], id_token_signing_alg_values_supported: ['RS256', 'ES256'] };
    });
    const token = await tokenFor(clientId);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(await storedMetadata(clientId)).toMatchObject({ token_endpoint_auth_method: 'none' });
  });

  it('RP Metadata Choices with keys at a jwks_uri: private_key_jwt is chosen, and the token endpoint requires it', async () => {
    docs.serveJson('/choices/jwks.json', keys.jwks);
    const clientId = publish('/choices/keyed.json', (id) => {
      const { token_endpoint_auth_method: _single, ...document } = clientDocument(id, REDIRECT_URI);
      return {
        ...document, jwks_uri: docs.url('/choices/jwks.json'),
        token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'], token_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256'],
      };
    });
    // Chose private_key_jwt: a token request without the assertion is not this client.
    expect((await tokenFor(clientId)).body.error).toBe('invalid_client');
    const token = await tokenFor(clientId, REDIRECT_URI, await clientAssertion(clientId));
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(docs.hits.get('/choices/jwks.json')).toBe(1);
  });

  it('private_key_jwt with its keys at a jwks_uri (fetched under the documents’ rules)', async () => {
    docs.serveJson('/keyed-uri/jwks.json', keys.jwks, { 'content-type': 'application/jwk-set+json' });
    const clientId = publish('/keyed-uri/client.json', (id) => clientDocument(id, REDIRECT_URI, {
      token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks_uri: docs.url('/keyed-uri/jwks.json'),
    }));
    const token = await tokenFor(clientId, REDIRECT_URI, await clientAssertion(clientId));
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token).client_id).toBe(clientId);
  });
});

describe('metadata documents: refused, with the reason on the page', () => {
  it('lists no grant we offer, or no code response type', async () => {
    await expectRefused(publish('/refused/grants.json', (id) => clientDocument(id, REDIRECT_URI, { grant_types: ['client_credentials'] })),
      /its grant_types do not include authorization_code/);
    await expectRefused(publish('/refused/implicit.json', (id) => clientDocument(id, REDIRECT_URI, { response_types: ['token'] })),
      /its response_types do not include code/);
  });

  it('a shared secret, named or as the only RP Metadata Choices (a document anyone can read holds no secret)', async () => {
    await expectRefused(publish('/refused/post.json', (id) => clientDocument(id, REDIRECT_URI, { token_endpoint_auth_method: 'client_secret_post' })),
      /token_endpoint_auth_method must be none, or private_key_jwt/);
    await expectRefused(publish('/refused/choices.json', (id) => {
      const { token_endpoint_auth_method: _single, ...document } = clientDocument(id, REDIRECT_URI);
      return { ...document, token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] };
    }), /token_endpoint_auth_methods_supported \(client_secret_basic, client_secret_post, private_key_jwt\) offers neither none nor private_key_jwt with jwks or jwks_uri/);
  });

  it('a jwks_uri that redirects, is too large or is not https: the client cannot authenticate', async () => {
    docs.route('/moved/jwks.json', (_req, res) => res.writeHead(302, { location: docs.url('/choices/jwks.json') }).end());
    const moved = publish('/moved/client.json', (id) => clientDocument(id, REDIRECT_URI, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: docs.url('/moved/jwks.json') }));
    const token = await tokenFor(moved, REDIRECT_URI, await clientAssertion(moved));
    expect(token.status).toBe(401);
    expect(token.body.error).toBe('invalid_client');
    expect(docs.hits.get('/moved/jwks.json')).toBe(1);

    // oidc-provider's own fetch reads a key set of any size; ours stops at 64 KiB.
    const padded = { keys: [...keys.jwks.keys, ...Array.from({ length: 500 }, (_, i) => ({ ...keys.jwks.keys[0], kid: `copy-${i}` }))] };
    expect(JSON.stringify(padded).length).toBeGreaterThan(64 * 1024);
    docs.serveJson('/huge/jwks.json', padded);
    const huge = publish('/huge/client.json', (id) => clientDocument(id, REDIRECT_URI, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: docs.url('/huge/jwks.json') }));
    expect((await tokenFor(huge, REDIRECT_URI, await clientAssertion(huge))).body.error).toBe('invalid_client');

    await expectRefused(publish('/refused/http-jwks.json', (id) => clientDocument(id, REDIRECT_URI, {
      token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `http://${new URL(docs.origin).host}/jwks.json`,
    })), /its jwks_uri must be an https URL/);
  });
});
