// The one way this server GETs a JSON document from elsewhere (Client ID Metadata Documents, the admin's
// check of a resource's protected-resource metadata, identity providers' discovery, keys, token and user
// endpoints: the one POST it makes), SSRF-safe: every resolved address and the address
// the socket really reaches must be public (address-policy.ts), no redirects, one deadline for the whole
// request, a size cap, JSON only, and bytes the database cannot store refused. Callers word the failure.
import type { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { FORBIDDEN_ADDRESS_CODE, isFetchableAddress, publicAddressLookup } from './address-policy.ts';
import { hostileJsonTextReason, isInvalidUtf8 } from '../input/hostile-values.ts';

export interface PublicJsonFetchOptions {
  /** CIMD_ALLOW_LOOPBACK: development servers on 127.0.0.1 / ::1 may answer. Nothing else private ever may. */
  allowLoopback: boolean;
  /** Whole-request deadline: DNS, connect, TLS, headers and body. */
  timeoutMs: number;
  maxBytes: number;
  userAgent?: string;
  /** Extra trusted CA certificates (PEM), added to Node's roots (CIMD_CA_FILE, development). */
  extraCa?: string | undefined;
  /** DNS resolution; tests substitute one to play a rebinding attacker. Production: the system resolver. */
  resolve?: typeof dnsLookup;
}

/** Why no document came back: what the caller needs to say so in its own words. */
export type PublicJsonFailure =
  | { code: 'forbidden_address' }
  | { code: 'timeout' }
  | { code: 'unreachable'; errorCode: string | undefined; message: string }
  | { code: 'redirect'; status: number }
  | { code: 'bad_status'; status: number }
  | { code: 'not_json'; contentType: string }
  | { code: 'encoded'; encoding: string }
  | { code: 'too_large' }
  | { code: 'broken' }
  | { code: 'not_utf8' }
  | { code: 'hostile'; reason: string }
  | { code: 'invalid_json' };

export type PublicJsonResult =
  | { ok: true; body: unknown; headers: IncomingHttpHeaders }
  | { ok: false; failure: PublicJsonFailure };

/** The media type without parameters, lowercased: `Application/JSON; charset=utf-8` → `application/json`. */
export const mediaTypeOf = (header: string | undefined) => (header ?? '').split(';')[0]!.trim().toLowerCase();

const isJsonMediaType = (type: string) => type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);

/** What a request sends besides a plain GET: an identity provider's token endpoint takes a form POST. */
export interface PublicJsonRequest { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }

/** GETs `url` (http or https). Never rejects and never hangs: every way it can fail is a PublicJsonFailure. */
export function fetchPublicJson(url: URL, options: PublicJsonFetchOptions, sent: PublicJsonRequest = {}): Promise<PublicJsonResult> {
  // A literal IP skips the lookup entirely, so it is judged here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isFetchableAddress(host, options.allowLoopback)) {
    return Promise.resolve({ ok: false, failure: { code: 'forbidden_address' } });
  }
  return new Promise<PublicJsonResult>((resolve) => {
    let settled = false;
    const settle = (result: PublicJsonResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (!result.ok) req.destroy();
      resolve(result);
    };
    const fail = (failure: PublicJsonFailure) => settle({ ok: false, failure });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: sent.method ?? 'GET',
      headers: { accept: 'application/json', ...(options.userAgent ? { 'user-agent': options.userAgent } : {}), ...sent.headers },
      // A fresh connection per fetch: no pooled socket chosen by an earlier resolution is reused.
      agent: false,
      lookup: publicAddressLookup(options.allowLoopback, options.resolve),
      ca: options.extraCa ? [...rootCertificates, options.extraCa] : undefined,
    });
    const deadline = setTimeout(() => fail({ code: 'timeout' }), options.timeoutMs);
    req.on('socket', (socket) => {
      // DNS rebinding: judge the address the socket really reached, before a byte of the request is sent.
      socket.once('connect', () => {
        if (!isFetchableAddress(socket.remoteAddress ?? '', options.allowLoopback)) fail({ code: 'forbidden_address' });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      fail(error.code === FORBIDDEN_ADDRESS_CODE ? { code: 'forbidden_address' } : { code: 'unreachable', errorCode: error.code, message: error.message });
    });
    req.on('response', (response) => {
      const status = response.statusCode ?? 0;
      // Redirects are not followed: the document must live at the URL asked for.
      if (status >= 300 && status < 400) return fail({ code: 'redirect', status });
      if (status !== 200) return fail({ code: 'bad_status', status });
      const contentType = response.headers['content-type'] ?? '';
      if (!isJsonMediaType(mediaTypeOf(contentType))) return fail({ code: 'not_json', contentType });
      const encoding = response.headers['content-encoding'];
      if (encoding && encoding !== 'identity') return fail({ code: 'encoded', encoding });
      if (Number(response.headers['content-length'] ?? 0) > options.maxBytes) return fail({ code: 'too_large' });
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > options.maxBytes) return fail({ code: 'too_large' });
        chunks.push(chunk);
      });
      response.on('error', () => fail({ code: 'broken' }));
      response.on('end', () => {
        if (settled) return;
        const bytes = Buffer.concat(chunks);
        // Bytes the database cannot store, or nesting a parser should not recurse into, make it unusable.
        if (isInvalidUtf8(bytes)) return fail({ code: 'not_utf8' });
        const text = bytes.toString('utf8');
        const hostile = hostileJsonTextReason(text);
        if (hostile) return fail({ code: 'hostile', reason: hostile });
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return fail({ code: 'invalid_json' });
        }
        settle({ ok: true, body, headers: response.headers });
      });
    });
    req.end(sent.body);
  });
}
