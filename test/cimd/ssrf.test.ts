// Every way a client_id URL could make the server fetch what it should not, or hang, ends on a clear
// error page (400 invalid_client), never a redirect, a hang or a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, authorizeQuery, follow, pkcePair } from '../helpers/oauth-flow.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { setDomainPolicyMode, setDomainRule } from '../../src/cimd/domain-policy.ts';
import { CIMD_DEV_ENV, clientDocument, startDocumentServer, type DocumentServer } from './document-server.ts';

let dev: TestApp; // CIMD_ALLOW_LOOPBACK=true: the test server is reachable, so its misbehaviour is what is refused
let production: TestApp; // the default: loopback is as forbidden as any private address
let docs: DocumentServer;
beforeAll(async () => {
  docs = await startDocumentServer();
  [dev, production] = await Promise.all([createTestApp(CIMD_DEV_ENV), createTestApp({ CIMD_CA_FILE: CIMD_DEV_ENV.CIMD_CA_FILE })]);
  await dev.addResource(notesResource());
});
afterAll(async () => {
  await Promise.all([dev?.close(), production?.close()]);
  await docs?.close();
});

async function authorizePage(app: TestApp, clientId: string) {
  const started = Date.now();
  const page = await follow(app.browser(), authorizeQuery({ clientId, state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  return { page, elapsedMs: Date.now() - started };
}

async function expectRefused(app: TestApp, clientId: string, reason: RegExp) {
  const { page, elapsedMs } = await authorizePage(app, clientId);
  expect(page.status, page.text).toBe(400);
  expect(page.headers.location).toBeUndefined();
  expect(page.headers['content-type']).toContain('text/html');
  expect(page.text).toContain('invalid_client');
  expect(page.text).toMatch(reason);
  return elapsedMs;
}

describe('SSRF-safe fetching of metadata documents', () => {
  it('refuses a private address without connecting', async () => {
    await expectRefused(production, 'https://10.0.0.1/client.json', /does not resolve to a public internet address/);
    await expectRefused(production, 'https://169.254.169.254/latest/meta-data.json', /does not resolve to a public internet address/);
    await expectRefused(production, 'https://[::ffff:c0a8:101]/client.json', /does not resolve to a public internet address/);
  });

  it('refuses a DNS name that resolves to loopback unless CIMD_ALLOW_LOOPBACK is set', async () => {
    const path = '/by-name/client.json';
    const clientId = `https://localhost:${new URL(docs.origin).port}${path}`;
    docs.serveJson(path, clientDocument(clientId, REDIRECT_URI));
    await expectRefused(production, clientId, /does not resolve to a public internet address/);
    await expectRefused(production, docs.url(path), /does not resolve to a public internet address/);
    expect(docs.hits.get(path)).toBeUndefined();
  });

  it('does not follow a redirect', async () => {
    docs.serveJson('/elsewhere.json', clientDocument(docs.url('/redirect.json'), REDIRECT_URI));
    docs.route('/redirect.json', (_req, res) => res.writeHead(302, { location: docs.url('/elsewhere.json') }).end());
    await expectRefused(dev, docs.url('/redirect.json'), /redirect \(302\); redirects are not followed/);
    expect(docs.hits.get('/elsewhere.json')).toBeUndefined();
  });

  it('refuses an oversize document, announced or streamed', async () => {
    const clientId = docs.url('/big.json');
    docs.serveJson('/big.json', clientDocument(clientId, REDIRECT_URI, { padding: 'x'.repeat(6000) }));
    await expectRefused(dev, clientId, /larger than 5120 bytes/);
    const streamedId = docs.url('/streamed.json');
    docs.route('/streamed.json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 20; i++) res.write(' '.repeat(1024));
      res.end('{}');
    });
    await expectRefused(dev, streamedId, /larger than 5120 bytes/);
  });

  it('gives up on a slow server within the deadline', async () => {
    docs.route('/slow.json', () => { /* never answers */ });
    const elapsed = await expectRefused(dev, docs.url('/slow.json'), /did not answer within 2.5 seconds/);
    // One fetch, not two: the error handler's second look-up is answered from the request's memory.
    expect(elapsed).toBeLessThan(4500);
    expect(docs.hits.get('/slow.json')).toBe(1);
  });

  it('refuses a document not served as JSON, or not JSON at all', async () => {
    const clientId = docs.url('/html.json');
    docs.route('/html.json', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(JSON.stringify(clientDocument(clientId, REDIRECT_URI))));
    await expectRefused(dev, clientId, /served as text\/html, not application\/json/);
    docs.route('/broken.json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'));
    await expectRefused(dev, docs.url('/broken.json'), /not valid JSON/);
  });

  it('refuses a document whose client_id is not exactly its URL', async () => {
    const clientId = docs.url('/mismatch.json');
    docs.serveJson('/mismatch.json', clientDocument(`${clientId}?v=2`, REDIRECT_URI));
    await expectRefused(dev, clientId, /client_id does not equal the URL it was fetched from/);
  });

  it('refuses documents a client could abuse: secrets, shared-secret auth, bad redirect URIs, no name', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['/secret.json', { client_secret: 'x' }, /must not contain client_secret/],
      ['/basic.json', { token_endpoint_auth_method: 'client_secret_basic' }, /token_endpoint_auth_method must be none, or private_key_jwt/],
      ['/keyless.json', { token_endpoint_auth_method: 'private_key_jwt' }, /carries no jwks or jwks_uri/],
      ['/http.json', { redirect_uris: ['http://app.example.com/cb'] }, /redirect_uris\[0\] must use https/],
      ['/nameless.json', { client_name: undefined }, /client_name/],
    ];
    for (const [path, extra, reason] of cases) {
      docs.serveJson(path, clientDocument(docs.url(path), REDIRECT_URI, extra));
      await expectRefused(dev, docs.url(path), reason);
    }
  });

  it('refuses a client_id that is not a URL in normal form, before fetching', async () => {
    await expectRefused(dev, `${docs.origin}/`, /must have a path/);
    await expectRefused(dev, docs.url('/a/../client.json'), /normal form/);
    await expectRefused(dev, `https://user:pw@${new URL(docs.origin).host}/client.json`, /credentials/);
  });

  it('applies the operator’s domain policy to cached documents too', async () => {
    const clientId = docs.url('/policy/client.json');
    docs.serveJson('/policy/client.json', clientDocument(clientId, REDIRECT_URI));
    expect((await authorizePage(dev, clientId)).page.status).toBe(200);
    await setDomainPolicyMode(dev.db, 'deny-list');
    await setDomainRule(dev.db, '127.0.0.1', 'deny');
    await expectRefused(dev, clientId, /does not accept clients from 127\.0\.0\.1/);
    await setDomainPolicyMode(dev.db, 'allow-all');
    expect((await authorizePage(dev, clientId)).page.status).toBe(200);
    expect(await listAuditEvents(dev.db, { type: 'client.metadata_document_changed' })).toEqual([]);
  });
});
