// The purge of the metadata-document cache: a document nothing refers to any more goes after a quiet
// month; one whose client still has a grant, token or session stays, so a changed document still asks again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type TestAgent from 'supertest/lib/agent.js';
import type { TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, exchangeCode, follow, obtainCode, pkcePair } from '../helpers/oauth-flow.ts';
import { purgeMetadataDocumentCache, UNUSED_DOCUMENT_RETENTION_DAYS } from '../../src/cimd/store.ts';
import { endGrants } from '../../src/grants/store.ts';
import { clientDocument, type DocumentServer } from './document-server.ts';
import { startCimdTestApp, stopCimdTestApp } from './cimd-test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
const CALLBACK = 'https://app.example.com/callback';
let app: TestApp;
let docs: DocumentServer;
let email: string;
beforeAll(async () => ({ app, docs, email } = await startCimdTestApp(NOTES)));
afterAll(() => stopCimdTestApp({ app, docs }));

const authorize = (browser: TestAgent, clientId: string) => follow(browser, authorizeQuery({
  clientId, resource: NOTES, scope: 'notes:read', redirectUri: CALLBACK, state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
}));

/** A client whose document was fetched (an authorization reached the sign-in page) and nothing more. */
async function clientSeenOnce(path: string) {
  const clientId = docs.url(path);
  docs.serveJson(path, clientDocument(clientId, CALLBACK, { client_name: 'Original Name' }));
  expect((await authorize(app.browser(), clientId)).status).toBe(200);
  return clientId;
}

/** A client a person approved: a grant, a session that authorized it, and a refresh token. */
async function clientInUse(path: string) {
  const clientId = docs.url(path);
  docs.serveJson(path, clientDocument(clientId, CALLBACK, { client_name: 'Original Name' }));
  const browser = app.browser();
  const result = await obtainCode(app, browser, email, { clientId, resource: NOTES, scope: 'notes:read', redirectUri: CALLBACK });
  const token = await exchangeCode(app, { client_id: clientId, code: result.code!, code_verifier: result.verifier, redirect_uri: CALLBACK });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  expect(token.body.refresh_token).toBeTypeOf('string');
  return { clientId, browser };
}

/** Moves the clock of a cached document: last fetched (and expired) `days` ago. */
async function lastFetchedDaysAgo(clientId: string, days: number) {
  await app.db.query(
    `UPDATE client_metadata_documents SET fetched_at = now() - make_interval(days => $2::int),
       expires_at = now() - make_interval(days => $2::int) + interval '1 minute' WHERE client_id = $1`,
    [clientId, days]);
}

/** Lets every oidc-provider record referring to the client expire, except those of `keptModel`. */
async function expireReferencesExcept(clientId: string, keptModel: string | undefined) {
  const { rowCount } = await app.db.query(
    `UPDATE oidc_models SET expires_at = now() - interval '1 second'
     WHERE model IS DISTINCT FROM $2 AND (payload->>'clientId' = $1 OR payload->'authorizations' ? $1)`,
    [clientId, keptModel ?? null]);
  expect(rowCount).toBeGreaterThan(0);
}

async function cachedDocumentExists(clientId: string) {
  const { rows } = await app.db.query('SELECT 1 FROM client_metadata_documents WHERE client_id = $1', [clientId]);
  return rows.length === 1;
}

const OLD = UNUSED_DOCUMENT_RETENTION_DAYS + 1;

describe('purging cached metadata documents', () => {
  it('deletes an expired document not fetched for a month that nothing refers to; keeps fresh and recently fetched ones', async () => {
    const forgotten = await clientSeenOnce('/forgotten/client.json');
    const fresh = await clientSeenOnce('/fresh/client.json');
    const recent = await clientSeenOnce('/recent/client.json');
    await lastFetchedDaysAgo(forgotten, OLD);
    await lastFetchedDaysAgo(recent, UNUSED_DOCUMENT_RETENTION_DAYS - 1);

    const purged = await purgeMetadataDocumentCache(app.db);
    expect(purged.documents).toBe(1);
    expect(await cachedDocumentExists(forgotten)).toBe(false);
    expect(await cachedDocumentExists(fresh)).toBe(true);
    expect(await cachedDocumentExists(recent)).toBe(true);
    // A later use simply fetches it again.
    expect((await authorize(app.browser(), forgotten)).status).toBe(200);
    expect(docs.hits.get('/forgotten/client.json')).toBe(2);
  });

  it.each([['Grant'], ['Session'], ['RefreshToken']])('keeps an old document while a live %s of its client refers to it', async (model) => {
    const { clientId } = await clientInUse(`/kept-by-${model}/client.json`);
    await lastFetchedDaysAgo(clientId, OLD);
    await expireReferencesExcept(clientId, model);
    await purgeMetadataDocumentCache(app.db);
    expect(await cachedDocumentExists(clientId)).toBe(true);

    // Once that one has expired too, nothing can use the document as a baseline: it goes.
    await expireReferencesExcept(clientId, undefined);
    await purgeMetadataDocumentCache(app.db);
    expect(await cachedDocumentExists(clientId)).toBe(false);
  });

  it('a kept baseline still brings the consent page back when the document then changes', async () => {
    const { clientId, browser } = await clientInUse('/baseline/client.json');
    await lastFetchedDaysAgo(clientId, OLD);
    await purgeMetadataDocumentCache(app.db);
    expect(await cachedDocumentExists(clientId)).toBe(true);

    docs.serveJson('/baseline/client.json', clientDocument(clientId, CALLBACK, { client_name: 'Totally Different App' }));
    const page = await authorize(browser, clientId);
    // Had the baseline been purged, the grant would cover the request and this would redirect with a code.
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain('name="decision"');
    expect(page.text).toContain('Totally Different App');
  });

  it('deletes re-consent flags whose grant is gone, keeps those of live grants', async () => {
    const live = await clientInUse('/flag-live/client.json');
    const ended = await clientInUse('/flag-ended/client.json');
    for (const { clientId, browser } of [live, ended]) {
      docs.serveJson(new URL(clientId).pathname, clientDocument(clientId, CALLBACK, { client_name: 'Renamed' }));
      await app.db.query(`UPDATE client_metadata_documents SET expires_at = now() - interval '1 second' WHERE client_id = $1`, [clientId]);
      expect((await authorize(browser, clientId)).status).toBe(200);
    }
    const flags = async (clientId: string) =>
      (await app.db.query('SELECT 1 FROM client_metadata_document_reconsents WHERE client_id = $1', [clientId])).rowCount;
    expect(await flags(live.clientId)).toBe(1);
    expect(await flags(ended.clientId)).toBe(1);

    await endGrants(app.db, { clientIds: [ended.clientId] });
    const purged = await purgeMetadataDocumentCache(app.db);
    expect(purged.reconsentFlags).toBe(1);
    expect(await flags(live.clientId)).toBe(1);
    expect(await flags(ended.clientId)).toBe(0);
  });

  it('deletes in batches', async () => {
    const clients = [await clientSeenOnce('/batch-1/client.json'), await clientSeenOnce('/batch-2/client.json')];
    for (const clientId of clients) await lastFetchedDaysAgo(clientId, OLD);
    expect((await purgeMetadataDocumentCache(app.db, new Date(), 1)).documents).toBe(1);
    expect((await purgeMetadataDocumentCache(app.db, new Date(), 1)).documents).toBe(1);
    expect(await Promise.all(clients.map(cachedDocumentExists))).toEqual([false, false]);
  });
});
