// The one outbound request of the CIMD feature: https only, then the SSRF-safe JSON fetch every outbound
// request uses (src/outbound/fetch-public-json.ts), its failures worded for the error page.
import type { lookup as dnsLookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { fetchPublicJson, mediaTypeOf, type PublicJsonFailure } from '../outbound/fetch-public-json.ts';
import { MetadataDocumentError } from './errors.ts';

export interface FetchOptions {
  /** CIMD_ALLOW_LOOPBACK: development servers on 127.0.0.1 / ::1 may serve documents. */
  allowLoopback: boolean;
  /** Extra trusted CA certificates (PEM), added to Node's roots: CIMD_CA_FILE, for local development. */
  extraCa?: string | undefined;
  /** Whole-request deadline: DNS, connect, TLS, headers and body. */
  timeoutMs?: number;
  maxBytes?: number;
  /** DNS resolution; tests substitute one to play a rebinding attacker. Production: the system resolver. */
  resolve?: typeof dnsLookup;
}

export interface FetchedDocument {
  body: unknown;
  /** The response's Cache-Control and Expires headers, for the cache lifetime. */
  cacheControl: string | undefined;
  expires: string | undefined;
}

// The CIMD draft recommends authorization servers cap documents at 5 kilobytes; a document is a few
// hundred bytes of JSON.
export const DEFAULT_MAX_BYTES = 5 * 1024;
export const DEFAULT_TIMEOUT_MS = 2500;

const NOT_PUBLIC = 'its host does not resolve to a public internet address';

/** GETs a metadata document. Throws MetadataDocumentError (with a reason a person can read), never hangs. */
export async function fetchMetadataDocument(url: URL, options: FetchOptions): Promise<FetchedDocument> {
  if (url.protocol !== 'https:') throw new MetadataDocumentError('not_https', 'the client_id must be an https URL');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result = await fetchPublicJson(url, {
    allowLoopback: options.allowLoopback, timeoutMs, maxBytes, extraCa: options.extraCa, resolve: options.resolve,
    userAgent: 'Portcullis (Client ID Metadata Document fetcher)',
  });
  if (!result.ok) throw documentError(result.failure, { maxBytes, timeoutMs });
  const header = (name: string) => [result.headers[name]].flat()[0];
  return { body: result.body, cacheControl: header('cache-control'), expires: header('expires') };
}

/** The failure in the words of the error page, under the stable code tests, logs and audit use. */
function documentError(failure: PublicJsonFailure, limits: { maxBytes: number; timeoutMs: number }): MetadataDocumentError {
  switch (failure.code) {
    case 'forbidden_address': return new MetadataDocumentError('forbidden_address', NOT_PUBLIC);
    case 'timeout': return new MetadataDocumentError('timeout', `it did not answer within ${limits.timeoutMs / 1000} seconds`);
    case 'unreachable':
      // A name that does not resolve is refused like a private one: both say nothing about the network.
      return failure.errorCode === 'ENOTFOUND' || failure.errorCode === 'EAI_AGAIN'
        ? new MetadataDocumentError('forbidden_address', NOT_PUBLIC)
        : new MetadataDocumentError('unreachable', `it could not be fetched (${failure.errorCode ?? failure.message})`);
    case 'redirect': return new MetadataDocumentError('redirect', `it answered with a redirect (${failure.status}); redirects are not followed`);
    case 'bad_status': return new MetadataDocumentError('bad_status', `it answered with HTTP status ${failure.status}`);
    case 'not_json': return new MetadataDocumentError('not_json', `it is served as ${mediaTypeOf(failure.contentType) || 'no content type'}, not application/json`);
    case 'encoded': return new MetadataDocumentError('not_json', `it is served with content-encoding ${failure.encoding}`);
    case 'too_large': return new MetadataDocumentError('too_large', `it is larger than ${limits.maxBytes} bytes`);
    case 'broken': return new MetadataDocumentError('unreachable', 'the connection broke while reading it');
    case 'not_utf8': return new MetadataDocumentError('invalid_document', 'it is not UTF-8');
    case 'hostile': return new MetadataDocumentError('invalid_document', `it ${failure.reason}`);
    case 'invalid_json': return new MetadataDocumentError('invalid_document', 'it is not valid JSON');
  }
}

export class CaFileError extends Error {
  override name = 'CaFileError';
}

/** The fetch settings the configuration asks for; reads CIMD_CA_FILE once, at start. */
export function fetchOptionsFromConfig(settings: { allowLoopback: boolean; caFile: string | undefined }): FetchOptions {
  let extraCa: string | undefined;
  if (settings.caFile) {
    try {
      extraCa = readFileSync(settings.caFile, 'utf8');
    } catch (error) {
      throw new CaFileError(`CIMD_CA_FILE: cannot read ${settings.caFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { allowLoopback: settings.allowLoopback, extraCa };
}
