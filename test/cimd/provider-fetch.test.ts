// oidc-provider's outbound fetch (src/cimd/provider-fetch.ts): key sets come back as JSON responses under
// the documents' rules, and nothing but a GET leaves through it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createProviderFetch } from '../../src/cimd/provider-fetch.ts';
import { TEST_CA_FILE, startDocumentServer, type DocumentServer } from './document-server.ts';

let docs: DocumentServer;
beforeAll(async () => { docs = await startDocumentServer(); });
afterAll(() => docs?.close());

const development = () => createProviderFetch({ allowLoopback: true, extraCa: readFileSync(TEST_CA_FILE, 'utf8') });

describe('the fetch oidc-provider uses', () => {
  it('answers a key set as a JSON response with its cache headers', async () => {
    docs.serveJson('/keys.json', { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }, { 'cache-control': 'max-age=300' });
    const response = await development()(docs.url('/keys.json'));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('max-age=300');
    expect(await response.json()).toEqual({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] });
  });

  it('refuses loopback in production, a redirect, and any method but GET', async () => {
    docs.serveJson('/other-keys.json', { keys: [] });
    await expect(createProviderFetch({ allowLoopback: false })(docs.url('/other-keys.json'))).rejects.toThrow(/public internet address/);
    docs.route('/moved.json', (_req, res) => res.writeHead(301, { location: docs.url('/other-keys.json') }).end());
    await expect(development()(docs.url('/moved.json'))).rejects.toThrow(/redirects are not followed/);
    await expect(development()(docs.url('/other-keys.json'), { method: 'POST', body: '{}' })).rejects.toThrow(/only GET/);
    expect(docs.hits.get('/other-keys.json')).toBe(undefined);
  });
});
