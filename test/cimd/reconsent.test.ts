// A client cannot change what a person agreed to behind their back: when its metadata document changes
// its name or redirect URIs, the grants given before are flagged and the next authorization asks again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type TestAgent from 'supertest/lib/agent.js';
import type { TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, decide, follow, obtainCode, pkcePair } from '../helpers/oauth-flow.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { clientDocument, type DocumentServer } from './document-server.ts';
import { startCimdTestApp, stopCimdTestApp } from './cimd-test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
const CALLBACK = 'https://app.example.com/callback';
let app: TestApp;
let docs: DocumentServer;
let email: string;
beforeAll(async () => ({ app, docs, email } = await startCimdTestApp(NOTES)));
afterAll(() => stopCimdTestApp({ app, docs }));

/** Publishes a new version of the document and lets the cached copy expire (as time passing would). */
async function publish(path: string, document: Record<string, unknown>) {
  docs.serveJson(path, document);
  await app.db.query(`UPDATE client_metadata_documents SET expires_at = now() - interval '1 second' WHERE client_id = $1`, [docs.url(path)]);
}

const authorize = (browser: TestAgent, clientId: string) => follow(browser, authorizeQuery({
  clientId, resource: NOTES, scope: 'notes:read', redirectUri: CALLBACK, state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256',
}));

const isConsentPage = (page: { status: number; text: string }) => page.status === 200 && page.text.includes('name="decision"');

async function clientWithStandingGrant(path: string) {
  const clientId = docs.url(path);
  docs.serveJson(path, clientDocument(clientId, CALLBACK, { client_name: 'Original Name' }));
  const browser = app.browser();
  await obtainCode(app, browser, email, { clientId, resource: NOTES, scope: 'notes:read', redirectUri: CALLBACK });
  // The baseline: a web client whose grant covers the request is not asked again.
  const again = await authorize(browser, clientId);
  expect(again.status).toBe(303);
  expect(again.headers.location).toMatch(/^https:\/\/app\.example\.com\/callback\?code=/);
  return { clientId, browser };
}

describe('re-consent after a metadata document changes', () => {
  it('a new client_name brings the consent page back once, naming the new name, and is audited', async () => {
    const { clientId, browser } = await clientWithStandingGrant('/renamed/client.json');
    await publish('/renamed/client.json', clientDocument(clientId, CALLBACK, { client_name: 'Totally Different App' }));
    const page = await authorize(browser, clientId);
    expect(isConsentPage(page), page.text).toBe(true);
    expect(page.text).toContain('Totally Different App');
    const [event] = await listAuditEvents(app.db, { type: 'client.metadata_document_changed' });
    expect(event).toMatchObject({ client_id: clientId, details: { changed: ['client_name'], flagged_grants: 1 } });
    expect(event!.details).toMatchObject({ previous: { client_name: 'Original Name' }, current: { client_name: 'Totally Different App' } });

    const back = await decide(browser, new URL(page.request.url).pathname, 'approve');
    expect(back.headers.location).toMatch(/^https:\/\/app\.example\.com\/callback\?code=/);
    // Confirmed: the grant is current again.
    expect((await authorize(browser, clientId)).status).toBe(303);
  });

  it('new redirect URIs bring the consent page back', async () => {
    const { clientId, browser } = await clientWithStandingGrant('/moved/client.json');
    await publish('/moved/client.json', clientDocument(clientId, CALLBACK, { client_name: 'Original Name', redirect_uris: [CALLBACK, 'https://collector.example.net/cb'] }));
    expect(isConsentPage(await authorize(browser, clientId))).toBe(true);
    const events = await listAuditEvents(app.db, { type: 'client.metadata_document_changed' });
    expect(events.find((event) => event.client_id === clientId)?.details).toMatchObject({ changed: ['redirect_uris'] });
  });

  it('a refetched document that changes neither does not ask again', async () => {
    const { clientId, browser } = await clientWithStandingGrant('/stable/client.json');
    await publish('/stable/client.json', clientDocument(clientId, CALLBACK, { client_name: 'Original Name', client_uri: 'https://app.example.com/' }));
    expect((await authorize(browser, clientId)).status).toBe(303);
    expect(docs.hits.get('/stable/client.json')).toBe(2);
    const events = await listAuditEvents(app.db, { type: 'client.metadata_document_changed' });
    expect(events.some((event) => event.client_id === clientId)).toBe(false);
  });
});
