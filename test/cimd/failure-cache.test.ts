// A document that cannot be fetched or used is remembered for a minute, by every server process: the
// same client_id gets the same error page without another fetch, until the window passes or it works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../src/app.ts';
import { parseOptions } from '../../src/cli/args.ts';
import { cimdCommands } from '../../src/cli/cimd.ts';
import { FAILURE_MEMORY_SECONDS } from '../../src/cimd/failure-store.ts';
import { purgeMetadataDocumentCache } from '../../src/cimd/store.ts';
import { setDomainPolicyMode, setDomainRule } from '../../src/cimd/domain-policy.ts';
import { TEST_SECRETS, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, authorizeQuery, exchangeCode, follow, obtainCode, pkcePair } from '../helpers/oauth-flow.ts';
import { CIMD_DEV_ENV, clientDocument, type DocumentServer } from './document-server.ts';
import { startCimdTestApp, stopCimdTestApp } from './cimd-test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let docs: DocumentServer;
let email: string;
beforeAll(async () => ({ app, docs, email } = await startCimdTestApp(NOTES)));
afterAll(() => stopCimdTestApp({ app, docs }));

const start = (clientId: string) =>
  authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' });

/** The error page's sentence about the document, from an authorization that must be refused. */
async function refusal(clientId: string, agent = app.browser()) {
  const page = await follow(agent, start(clientId));
  expect(page.status, page.text).toBe(400);
  expect(page.headers.location).toBeUndefined();
  expect(page.text).toContain('invalid_client');
  const reason = /cannot be used: ([^<]*)/.exec(page.text)?.[1];
  expect(reason, page.text).toBeDefined();
  return reason!;
}

async function failureRow(clientId: string) {
  const { rows } = await app.db.query<{ error_code: string; message: string; remaining: number }>(
    `SELECT error_code, message, extract(epoch FROM retry_after - failed_at)::int AS remaining
     FROM client_metadata_document_failures WHERE client_id = $1`, [clientId]);
  return rows[0];
}

/** Moves the clock past the failure's window. */
const windowPassed = (clientId: string) => app.db.query(
  `UPDATE client_metadata_document_failures SET failed_at = now() - interval '2 minutes', retry_after = now() - interval '1 second' WHERE client_id = $1`,
  [clientId]);

async function runCimd(command: string, argv: string[]) {
  const spec = cimdCommands.find((c) => c.name === command)!;
  return spec.run({ config: app.config, db: app.db, applied: [] }, parseOptions(command, argv, spec.options));
}

describe('remembering failed metadata documents', () => {
  const failing: Array<[string, string, (res: import('node:http').ServerResponse) => void, RegExp]> = [
    ['a 500', 'bad_status', (res) => res.writeHead(500).end(), /HTTP status 500/],
    ['invalid JSON', 'invalid_document', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'), /not valid JSON/],
    ['a document for another client_id', 'invalid_document',
      (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(clientDocument('https://elsewhere.example/c.json', REDIRECT_URI))),
      /client_id does not equal the URL/],
  ];

  it.each(failing)('%s is fetched once: the next authorization, in any process, gets the same error without a fetch', async (_name, code, answer, reason) => {
    const path = `/failing-${code}-${Math.random().toString(36).slice(2)}/client.json`;
    const clientId = docs.url(path);
    docs.route(path, (_req, res) => answer(res));
    const first = await refusal(clientId);
    expect(first).toMatch(reason);
    expect(await failureRow(clientId)).toMatchObject({ error_code: code, remaining: FAILURE_MEMORY_SECONDS });

    expect(await refusal(clientId)).toBe(first);
    const other = await createApp({ config: app.config, db: app.db, secrets: TEST_SECRETS });
    try {
      expect(await refusal(clientId, request.agent(other.app.callback()).set('Host', 'localhost:4000'))).toBe(first);
    } finally {
      await other.close();
    }
    expect(docs.hits.get(path)).toBe(1);

    // After the window the document is fetched again (and, still failing, remembered again).
    await windowPassed(clientId);
    expect(await refusal(clientId)).toBe(first);
    expect(docs.hits.get(path)).toBe(2);
    expect(await failureRow(clientId)).toMatchObject({ error_code: code, remaining: FAILURE_MEMORY_SECONDS });
  });

  it('concurrent authorizations for a failing document share one fetch', async () => {
    const path = '/concurrent-failure/client.json';
    docs.route(path, (_req, res) => setTimeout(() => res.writeHead(503).end(), 100));
    const reasons = await Promise.all([1, 2, 3].map(() => refusal(docs.url(path))));
    expect(new Set(reasons)).toEqual(new Set(['it answered with HTTP status 503.']));
    expect(docs.hits.get(path)).toBe(1);
  });

  it('the token endpoint answers a remembered failure with invalid_client too, and a success clears it', async () => {
    const path = '/recovering/client.json';
    const clientId = docs.url(path);
    docs.serveJson(path, clientDocument(clientId, REDIRECT_URI), { 'cache-control': 'max-age=0' });
    const result = await obtainCode(app, app.browser(), email, { clientId, resource: NOTES, scope: 'notes:read' });

    // The document breaks and the cached copy expires: the refetch fails, and a stale copy is not served.
    docs.route(path, (_req, res) => res.writeHead(404).end());
    await app.db.query(`UPDATE client_metadata_documents SET expires_at = now() - interval '1 second' WHERE client_id = $1`, [clientId]);
    expect(await refusal(clientId)).toMatch(/HTTP status 404/);
    const token = await exchangeCode(app, { client_id: clientId, code: result.code!, code_verifier: result.verifier });
    expect(token.status).toBe(400);
    expect(token.body).toMatchObject({ error: 'invalid_client' });
    expect(token.body.error_description).toContain('HTTP status 404');
    expect(docs.hits.get(path)).toBe(2);

    // Fixed: after the window it is fetched, cached and served, and the failure is gone.
    docs.serveJson(path, clientDocument(clientId, REDIRECT_URI));
    await windowPassed(clientId);
    expect((await follow(app.browser(), start(clientId))).status).toBe(200);
    expect(await failureRow(clientId)).toBeUndefined();
    expect(docs.hits.get(path)).toBe(3);
  });

  it('refusals that fetch nothing are not remembered: a client_id not in normal form, a denied domain', async () => {
    const odd = docs.url('/a/../odd.json');
    expect(await refusal(odd)).toMatch(/normal form/);
    const denied = await createTestApp(CIMD_DEV_ENV);
    try {
      await setDomainPolicyMode(denied.db, 'deny-list');
      await setDomainRule(denied.db, '127.0.0.1', 'deny');
      const page = await follow(denied.browser(), start(docs.url('/denied/client.json')));
      expect(page.status).toBe(400);
      expect(page.text).toMatch(/does not accept clients from 127\.0\.0\.1/);
      expect((await denied.db.query('SELECT 1 FROM client_metadata_document_failures')).rowCount).toBe(0);
    } finally {
      await denied.close();
    }
    expect(await failureRow(odd)).toBeUndefined();
    expect(docs.hits.get('/denied/client.json')).toBeUndefined();
  });

  it('the purge deletes failures past their window and keeps current ones', async () => {
    const [current, old] = ['/purge-current/client.json', '/purge-old/client.json'];
    for (const path of [current, old]) {
      docs.route(path, (_req, res) => res.writeHead(500).end());
      await refusal(docs.url(path));
    }
    await windowPassed(docs.url(old));
    const purged = await purgeMetadataDocumentCache(app.db);
    expect(purged.failures).toBeGreaterThanOrEqual(1);
    expect(await failureRow(docs.url(old))).toBeUndefined();
    expect(await failureRow(docs.url(current))).toMatchObject({ error_code: 'bad_status' });
  });
});

describe('cimd forget', () => {
  it('clears a remembered failure at once: the next authorization fetches again', async () => {
    const path = '/forget-failure/client.json';
    const clientId = docs.url(path);
    docs.route(path, (_req, res) => res.writeHead(500).end());
    await refusal(clientId);
    docs.serveJson(path, clientDocument(clientId, REDIRECT_URI));
    await refusal(clientId);
    expect(docs.hits.get(path)).toBe(1);

    const result = await runCimd('cimd forget', ['--client-id', clientId]);
    expect(result.json).toEqual({ client_id: clientId, document_expired: false, failure_forgotten: true });
    expect((await follow(app.browser(), start(clientId))).status).toBe(200);
    expect(docs.hits.get(path)).toBe(2);
  });

  it('makes a cached copy stale but keeps it as the re-consent baseline', async () => {
    const path = '/forget-document/client.json';
    const clientId = docs.url(path);
    docs.serveJson(path, clientDocument(clientId, REDIRECT_URI, { client_name: 'Before' }), { 'cache-control': 'max-age=3600' });
    expect((await follow(app.browser(), start(clientId))).status).toBe(200);
    docs.serveJson(path, clientDocument(clientId, REDIRECT_URI, { client_name: 'After' }), { 'cache-control': 'max-age=3600' });

    const result = await runCimd('cimd forget', ['--client-id', clientId]);
    expect(result.json).toMatchObject({ document_expired: true, failure_forgotten: false });
    const { rows } = await app.db.query<{ name: string; stale: boolean }>(
      `SELECT metadata->>'client_name' AS name, expires_at <= now() AS stale FROM client_metadata_documents WHERE client_id = $1`, [clientId]);
    expect(rows).toEqual([{ name: 'Before', stale: true }]);
    expect((await follow(app.browser(), start(clientId))).status).toBe(200);
    expect(docs.hits.get(path)).toBe(2);
    // Compared with the kept copy, the refetch is seen as a change (what flags a client's grants).
    const changed = await app.db.query(`SELECT 1 FROM client_metadata_documents WHERE client_id = $1 AND changed_at IS NOT NULL`, [clientId]);
    expect(changed.rowCount).toBe(1);
  });

  it('refuses a client_id it knows nothing of, and one that is not a document URL', async () => {
    await expect(runCimd('cimd forget', ['--client-id', docs.url('/never-seen/client.json')])).rejects.toThrow(/no cached metadata document or remembered failure/);
    await expect(runCimd('cimd forget', ['--client-id', 'abc123'])).rejects.toMatchObject({ name: 'UsageError' });
    await expect(runCimd('cimd forget', [])).rejects.toMatchObject({ name: 'UsageError' });
  });
});
