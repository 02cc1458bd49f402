// The one outbound request of the CIMD feature, SSRF-safe: https only, every resolved address and the
// address actually connected to must be public, no redirects, a deadline, a size cap, JSON only.
import type { lookup as dnsLookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { FORBIDDEN_ADDRESS_CODE, isFetchableAddress, publicAddressLookup } from '../outbound/address-policy.ts';
import { MetadataDocumentError } from './errors.ts';
import { hostileJsonTextReason, isInvalidUtf8 } from '../input/hostile-values.ts';

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

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

const isJsonMediaType = (type: string) => type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);

/** GETs a metadata document. Throws MetadataDocumentError (with a reason a person can read), never hangs. */
export function fetchMetadataDocument(url: URL, options: FetchOptions): Promise<FetchedDocument> {
  if (url.protocol !== 'https:') return Promise.reject(new MetadataDocumentError('not_https', 'the client_id must be an https URL'));
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  // A literal IP skips the lookup entirely, so it is judged here.
  if (isIP(hostname) && !isFetchableAddress(hostname, options.allowLoopback)) {
    return Promise.reject(new MetadataDocumentError('forbidden_address', NOT_PUBLIC));
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return new Promise<FetchedDocument>((resolvePromise, reject) => {
    let settled = false;
    const fail = (error: MetadataDocumentError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(error);
    };
    const req = request(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'Portcullis (Client ID Metadata Document fetcher)' },
      // A fresh connection per fetch: no pooled socket chosen by an earlier resolution is reused.
      agent: false,
      lookup: publicAddressLookup(options.allowLoopback, options.resolve),
      ca: options.extraCa ? [...rootCertificates, options.extraCa] : undefined,
    });
    const deadline = setTimeout(() => fail(new MetadataDocumentError('timeout', `it did not answer within ${timeoutMs / 1000} seconds`)), timeoutMs);
    req.on('socket', (socket) => {
      // Defence in depth against DNS rebinding: judge the address the socket really reached, before
      // the TLS handshake sends a byte of the request.
      socket.once('connect', () => {
        if (!isFetchableAddress(socket.remoteAddress ?? '', options.allowLoopback)) fail(new MetadataDocumentError('forbidden_address', NOT_PUBLIC));
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === FORBIDDEN_ADDRESS_CODE || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
        fail(new MetadataDocumentError('forbidden_address', NOT_PUBLIC));
      } else {
        fail(new MetadataDocumentError('unreachable', `it could not be fetched (${error.code ?? error.message})`));
      }
    });
    req.on('response', (response) => {
      const status = response.statusCode ?? 0;
      // Redirects are not followed: the document must live at the client_id itself.
      if (status >= 300 && status < 400) return fail(new MetadataDocumentError('redirect', `it answered with a redirect (${status}); redirects are not followed`));
      if (status !== 200) return fail(new MetadataDocumentError('bad_status', `it answered with HTTP status ${status}`));
      const type = mediaType(response.headers['content-type']);
      if (!isJsonMediaType(type)) return fail(new MetadataDocumentError('not_json', `it is served as ${type || 'no content type'}, not application/json`));
      const encoding = response.headers['content-encoding'];
      if (encoding && encoding !== 'identity') return fail(new MetadataDocumentError('not_json', `it is served with content-encoding ${encoding}`));
      const tooLarge = () => fail(new MetadataDocumentError('too_large', `it is larger than ${maxBytes} bytes`));
      if (Number(response.headers['content-length'] ?? 0) > maxBytes) return tooLarge();
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) return tooLarge();
        chunks.push(chunk);
      });
      response.on('error', () => fail(new MetadataDocumentError('unreachable', 'the connection broke while reading it')));
      response.on('end', () => {
        if (settled) return;
        const bytes = Buffer.concat(chunks);
        // Bytes the database cannot store or a parser should not recurse into make the document unusable.
        if (isInvalidUtf8(bytes)) return fail(new MetadataDocumentError('invalid_document', 'it is not UTF-8'));
        const hostile = hostileJsonTextReason(bytes.toString('utf8'));
        if (hostile) return fail(new MetadataDocumentError('invalid_document', `it ${hostile}`));
        let body: unknown;
        try {
          body = JSON.parse(bytes.toString('utf8'));
        } catch {
          return fail(new MetadataDocumentError('invalid_document', 'it is not valid JSON'));
        }
        settled = true;
        clearTimeout(deadline);
        const header = (name: string) => [response.headers[name]].flat()[0];
        resolvePromise({ body, cacheControl: header('cache-control'), expires: header('expires') });
      });
    });
    req.end();
  });
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
