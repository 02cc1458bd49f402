// oidc-provider's own outbound requests (a metadata-document client's `jwks_uri`, fetched when it
// authenticates with private_key_jwt) under the rules the documents follow: fetch-document.ts.
import { MetadataDocumentError } from './errors.ts';
import { fetchMetadataDocument, type FetchOptions } from './fetch-document.ts';

/** A key set of ten RSA-4096 keys is about 8 KiB; oidc-provider itself sets no limit for jwks_uri. */
export const KEY_SET_MAX_BYTES = 64 * 1024;

/**
 * The `fetch` oidc-provider is configured with. Its default is SSRF-safe too, but follows redirects,
 * reads a body of any size within its 2.5 s, and cannot reach the loopback development servers that
 * CIMD_ALLOW_LOOPBACK and CIMD_CA_FILE let documents come from; this one answers like the document
 * fetch does (public addresses, https, no redirects, JSON, a size cap), and a refusal is an error
 * oidc-provider turns into the client's authentication failure.
 */
export function createProviderFetch(options: FetchOptions): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    // Only key sets are fetched today; a feature that would POST elsewhere must get its own fetch, not a GET.
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method !== 'GET') throw new Error(`${url.href}: only GET requests leave through this fetch, not ${method}`);
    try {
      const fetched = await fetchMetadataDocument(url, { ...options, maxBytes: KEY_SET_MAX_BYTES });
      const headers = new Headers({ 'content-type': 'application/json' });
      if (fetched.cacheControl) headers.set('cache-control', fetched.cacheControl);
      if (fetched.expires) headers.set('expires', fetched.expires);
      return new Response(JSON.stringify(fetched.body), { status: 200, headers });
    } catch (error) {
      if (error instanceof MetadataDocumentError) throw new Error(`${url.href}: ${error.message}`, { cause: error });
      throw error;
    }
  };
}
