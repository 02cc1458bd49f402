// A client identified by its Client ID Metadata Document: discovery says so, the full flow works with a
// document served over https on loopback (CIMD_ALLOW_LOOPBACK), and the cached copy serves every process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { createApp } from '../../src/app.ts';
import { TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, authorizeQuery, clientRedirectOf, exchangeCode, follow, obtainCode, pkcePair, refresh, signIn } from '../helpers/oauth-flow.ts';
import { clientDocument, type DocumentServer } from './document-server.ts';
import { startCimdTestApp, stopCimdTestApp } from './cimd-test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let docs: DocumentServer;
let email: string;
beforeAll(async () => ({ app, docs, email } = await startCimdTestApp(NOTES)));
afterAll(() => stopCimdTestApp({ app, docs }));

describe('Client ID Metadata Documents', () => {
  it('are advertised in both metadata documents', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = await app.http().get(path);
      expect(metadata.body.client_id_metadata_document_supported, path).toBe(true);
    }
  });

  it('a URL client_id completes the flow: consent names the client and its domain, tokens are issued and refresh', async () => {
    const clientId = docs.url('/happy/client.json');
    docs.serveJson('/happy/client.json', clientDocument(clientId, REDIRECT_URI, { client_name: 'Happy Client' }));
    const browser = app.browser();
    const pkce = pkcePair();
    const login = await follow(browser, authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    expect(login.status, login.text).toBe(200);
    const consent = await signIn(browser, new URL(login.request.url).pathname, email);
    expect(consent.text).toContain('Happy Client');
    expect(consent.text).toContain('Identified by its domain 127.0.0.1:');
    const result = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });
    const token = await exchangeCode(app, { client_id: clientId, code: result.code!, code_verifier: result.verifier });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({ aud: NOTES, client_id: clientId, scope: 'notes:read' });
    const rotated = await refresh(app, { client_id: clientId, refresh_token: token.body.refresh_token });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
  });

  it('no operator vetted it: an error before approval stops at the leaving page (issue 11 §8)', async () => {
    const clientId = docs.url('/leaving/client.json');
    docs.serveJson('/leaving/client.json', clientDocument(clientId, REDIRECT_URI));
    const page = await app.browser().get(authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's' }));
    expect(page.status, page.text).toBe(200);
    expect(page.headers.location).toBeUndefined();
    expect(page.text).toContain(`You are leaving Portcullis for ${new URL(REDIRECT_URI).host}`);
    expect(clientRedirectOf(page).searchParams.get('error')).toBe('invalid_request');
  });

  it('a redirect_uri the document does not list is refused on a page, never redirected to', async () => {
    const clientId = docs.url('/strict/client.json');
    docs.serveJson('/strict/client.json', clientDocument(clientId, REDIRECT_URI));
    const page = await follow(app.browser(), authorizeQuery({ clientId, redirectUri: 'https://evil.example/cb', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(page.status).toBe(400);
    expect(page.headers.location).toBeUndefined();
    expect(page.text).toContain('redirect_uri');
  });

  it('a document is fetched once while fresh (Cache-Control max-age), and another server process uses the cached copy', async () => {
    const clientId = docs.url('/cached/client.json');
    docs.serveJson('/cached/client.json', clientDocument(clientId, REDIRECT_URI), { 'cache-control': 'public, max-age=600' });
    const start = () => authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' });
    expect((await follow(app.browser(), start())).status).toBe(200);
    expect((await follow(app.browser(), start())).status).toBe(200);
    const other = await createApp({ config: app.config, db: app.db, secrets: TEST_SECRETS });
    const secondProcess = request.agent(other.app.callback()).set('Host', 'localhost:4000');
    const there = await secondProcess.get(start());
    expect(there.status).toBe(303);
    expect(there.headers.location).toContain('/interaction/');
    expect(docs.hits.get('/cached/client.json')).toBe(1);
  });

  it('a document that is gone makes the token endpoint answer invalid_client, not a 500', async () => {
    const clientId = docs.url('/vanishing/client.json');
    docs.serveJson('/vanishing/client.json', clientDocument(clientId, REDIRECT_URI), { 'cache-control': 'max-age=0' });
    const result = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });
    docs.route('/vanishing/client.json', (_req, res) => res.writeHead(404).end());
    // The cached copy has expired (max-age=0 keeps it for the one-minute minimum): move its clock on.
    await app.db.query(`UPDATE client_metadata_documents SET expires_at = now() - interval '1 second' WHERE client_id = $1`, [clientId]);
    const token = await exchangeCode(app, { client_id: clientId, code: result.code!, code_verifier: result.verifier });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_client');
    expect(token.body.error_description).toContain('HTTP status 404');
  });

  it('a document publishing its keys may use private_key_jwt, and then the token endpoint requires the signed assertion', async () => {
    const clientId = docs.url('/keyed/client.json');
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    docs.serveJson('/keyed/client.json', clientDocument(clientId, REDIRECT_URI, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } }));
    const first = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });
    const unauthenticated = await exchangeCode(app, { client_id: clientId, code: first.code!, code_verifier: first.verifier });
    expect(unauthenticated.body.error).toBe('invalid_client');

    const second = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(clientId).setSubject(clientId)
      .setAudience('http://localhost:4000/token').setJti(crypto.randomUUID()).setIssuedAt().setExpirationTime('1m').sign(privateKey);
    const token = await exchangeCode(app, {
      client_id: clientId, code: second.code!, code_verifier: second.verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
  });
});
