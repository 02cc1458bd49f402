// Verifies a DPoP proof JWT (RFC 9449 §4.3) for a DPoP-bound access token: typ, alg allow-list, the
// signature by the embedded public JWK, htm, htu, iat window, jti replay, ath and the key's thumbprint.
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import type { DpopReplayStore } from './dpop-replay.ts';
import { ResourceServerError } from './errors.ts';

/** The DPoP proof algorithms accepted by default: asymmetric only (RFC 9449 §4.2 forbids none and MACs); the same as Portcullis verifies at its token endpoint (Ed25519 is what oauth4webapi names an Ed25519 key). */
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];

/** What a proof is checked against: the request, the access token and the key the token is bound to. */
export interface DpopProofCheck {
  /** The `DPoP` header value(s) as the framework gives them. */
  proof: string | readonly string[] | undefined;
  /** The HTTP method of the request (`htm`). */
  method: string;
  /** The absolute request URL; query and fragment are ignored (`htu`, RFC 9449 §4.3 item 9). */
  url: string;
  /** The access token the proof must hash to (`ath`). */
  accessToken: string;
  /** The token's `cnf.jkt`: the SHA-256 JWK thumbprint of the key the token is bound to. */
  jkt: string;
  /** Accepted proof algorithms (default DEFAULT_DPOP_ALGORITHMS). */
  algorithms?: readonly string[];
  /** How far `iat` may be from now, in seconds (default 60). */
  maxAgeSeconds?: number;
  /** Where seen `jti`s are kept; each proof is accepted once. */
  replayStore: DpopReplayStore;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

const ASYMMETRIC = new Set(['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);

const refuse = (message: string, cause?: unknown) => new ResourceServerError('invalid_dpop_proof', message, { cause });

/** RFC 9449 §4.3 item 9 and RFC 3986 §6: scheme and host compared case-insensitively, default port dropped, no query or fragment. */
export function normalizeHtu(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Checks one DPoP proof; throws ResourceServerError `invalid_dpop_proof` naming what is wrong. */
export async function verifyDpopProof(check: DpopProofCheck): Promise<void> {
  const proofs = typeof check.proof === 'string' ? [check.proof] : [...(check.proof ?? [])];
  // RFC 9449 §4.3 items 1 and 2: exactly one DPoP header holding one JWT.
  if (proofs.length === 0) throw refuse('the DPoP-bound token was sent without a DPoP proof');
  if (proofs.length > 1) throw refuse('more than one DPoP proof');
  const proof = proofs[0]!;
  const algorithms = [...(check.algorithms ?? DEFAULT_DPOP_ALGORITHMS)].filter((alg) => ASYMMETRIC.has(alg));
  let header;
  try {
    header = decodeProtectedHeader(proof);
  } catch (error) {
    throw refuse('the DPoP proof is not a JWT', error);
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) throw refuse('the DPoP proof algorithm is not allowed');
  const now = (check.now ?? Date.now)();
  let payload;
  try {
    // EmbeddedJWK verifies with the header's public `jwk` and refuses a private one (RFC 9449 §4.2).
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt', algorithms, requiredClaims: ['jti', 'htm', 'htu', 'iat'], currentDate: new Date(now),
    }));
  } catch (error) {
    throw refuse('the DPoP proof is invalid', error);
  }
  if (payload.htm !== check.method.toUpperCase()) throw refuse('the DPoP proof is for another HTTP method');
  const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined;
  if (htu === undefined || htu !== normalizeHtu(check.url)) throw refuse('the DPoP proof is for another URL');
  const maxAge = check.maxAgeSeconds ?? 60;
  const iat = payload.iat!;
  if (Math.abs(now / 1000 - iat) > maxAge) throw refuse('the DPoP proof is too old or from the future');
  const ath = createHash('sha256').update(check.accessToken).digest('base64url');
  if (payload.ath !== ath) throw refuse('the DPoP proof is for another access token');
  if ((await calculateJwkThumbprint(header.jwk!, 'sha256')) !== check.jkt) throw refuse('the DPoP proof key is not the one the token is bound to');
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) throw refuse('the DPoP proof jti is malformed');
  // Remembered after every other check, so a forged proof cannot burn a jti; kept past the iat window.
  const fresh = await check.replayStore.remember(`${check.jkt}:${payload.jti}`, (iat + maxAge + 1) * 1000);
  if (!fresh) throw refuse('the DPoP proof was already used');
}
