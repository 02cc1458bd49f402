// The fetcher judges every address a name resolves to, so a name that answers with an internal address
// (alone, or mixed with a public one, as a rebinding attacker would) is never connected to. DNS is
// faked here; the server is real, on loopback, and must see no request.
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMetadataDocument, type FetchOptions } from '../../src/cimd/fetch-document.ts';
import { MetadataDocumentError } from '../../src/cimd/errors.ts';
import { startDocumentServer, TEST_CA_FILE, type DocumentServer } from './document-server.ts';
import { readFileSync } from 'node:fs';

let docs: DocumentServer;
beforeAll(async () => {
  docs = await startDocumentServer();
  docs.serveJson('/client.json', { hello: 'world' });
});
afterAll(async () => docs?.close());

/** A resolver under the attacker's control: `client.cimd.test` answers with `addresses`. */
function resolverAnswering(addresses: string[]): FetchOptions['resolve'] {
  return ((hostname: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) => {
    if (hostname !== 'client.cimd.test') return callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), []);
    callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }) as never;
}

const fetchVia = (addresses: string[], allowLoopback: boolean) => fetchMetadataDocument(
  new URL(`https://client.cimd.test:${new URL(docs.origin).port}/client.json`),
  { allowLoopback, extraCa: readFileSync(TEST_CA_FILE, 'utf8'), resolve: resolverAnswering(addresses) },
);

async function expectForbidden(promise: Promise<unknown>) {
  const error = await promise.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(MetadataDocumentError);
  expect((error as MetadataDocumentError).code).toBe('forbidden_address');
}

describe('DNS answers are judged before connecting', () => {
  it('connects through the resolver it is given (the control case)', async () => {
    const fetched = await fetchVia(['127.0.0.1'], true);
    expect(fetched.body).toEqual({ hello: 'world' });
  });

  it('refuses a name resolving to loopback, to a metadata address, or to a mix of public and private', async () => {
    const before = docs.hits.get('/client.json');
    await expectForbidden(fetchVia(['127.0.0.1'], false));
    await expectForbidden(fetchVia(['169.254.169.254'], true));
    await expectForbidden(fetchVia(['10.0.0.7', '127.0.0.1'], true));
    await expectForbidden(fetchVia(['93.184.216.34', '127.0.0.1'], false));
    expect(docs.hits.get('/client.json')).toBe(before);
  });

  it('refuses a name that does not resolve, with the same words', async () => {
    await expectForbidden(fetchMetadataDocument(new URL('https://nowhere.cimd.test/client.json'), { allowLoopback: true, resolve: resolverAnswering([]) }));
  });
});
