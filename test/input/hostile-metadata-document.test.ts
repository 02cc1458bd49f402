// A fetched Client ID Metadata Document holding what the database cannot store (NUL, lone surrogates,
// bytes that are not UTF-8) or deep nesting is an unusable document: a 400 page, remembered as a failure.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import type { TestApp } from '../helpers/test-app.ts';
import { REDIRECT_URI, authorizeQuery, follow, pkcePair } from '../helpers/oauth-flow.ts';
import { clientDocument, type DocumentServer } from '../cimd/document-server.ts';
import { startCimdTestApp, stopCimdTestApp } from '../cimd/cimd-test-app.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let docs: DocumentServer;
beforeAll(async () => ({ app, docs } = await startCimdTestApp(NOTES)), 120_000);
afterAll(() => stopCimdTestApp({ app, docs }));

/** The document for `clientId` as JSON text, with `extra` spliced in verbatim (so escapes stay escapes). */
const documentText = (clientId: string, extra: string) => {
  const json = JSON.stringify(clientDocument(clientId, REDIRECT_URI));
  return `${json.slice(0, -1)},${extra}}`;
};
const serve = (body: string | Buffer) => (_req: unknown, res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);

const hostile: Array<[string, (clientId: string) => string | Buffer, RegExp]> = [
  ['a \\u0000 escape in its client_name', (id) => documentText(id, '"x":1').replace('"client_name":"', '"client_name":"\\u0000'), /NUL/],
  ['a lone surrogate escape in an ignored field', (id) => documentText(id, '"software_version":"\\ud800"'), /unpaired UTF-16 surrogate/],
  ['a lone low surrogate escape in a redirect URI', (id) => documentText(id, '"x":1').replace(REDIRECT_URI, `${REDIRECT_URI}\\udc00`), /unpaired UTF-16 surrogate/],
  ['bytes that are not UTF-8', (id) => Buffer.concat([Buffer.from(documentText(id, '"software_id":"').slice(0, -1)), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), /not UTF-8/],
  ['nesting 2000 deep', (id) => documentText(id, `"extra":${'['.repeat(2000)}${']'.repeat(2000)}`), /nested deeper than 32/],
];

it.each(hostile)('a document with %s is refused, remembered, and not fetched again', async (_label, body, reason) => {
  const path = `/hostile-${Math.random().toString(36).slice(2)}/client.json`;
  const clientId = docs.url(path);
  docs.route(path, serve(body(clientId)));
  const start = () => authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' });

  const page = await follow(app.browser(), start());
  expect(page.status, page.text).toBe(400);
  expect(page.text).toContain('invalid_client');
  expect(page.text).toMatch(reason);
  const { rows } = await app.db.query<{ error_code: string }>('SELECT error_code FROM client_metadata_document_failures WHERE client_id = $1', [clientId]);
  expect(rows).toEqual([{ error_code: 'invalid_document' }]);
  const cached = await app.db.query('SELECT 1 FROM client_metadata_documents WHERE client_id = $1', [clientId]);
  expect(cached.rowCount).toBe(0);

  // Remembered like any other failure: the next authorization gets the same answer without a fetch.
  const again = await follow(app.browser(), start());
  expect(again.status).toBe(400);
  expect(again.text).toMatch(reason);
  expect(docs.hits.get(path)).toBe(1);
});
