// Checks an Identity Assertion JWT Authorization Grant (MCP ext-auth Enterprise-Managed Authorization §5.1,
// RFC 7523 §3, RFC 7521 §5.2) with jose: typ, asymmetric algorithm, trusted issuer's keys, aud, client_id,
// resource, exp/iat window, single-use jti; yields who it is for and which scopes it may carry.
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Db } from '../db/db.ts';
import { fetchPublicJson, type PublicJsonFetchOptions } from '../outbound/fetch-public-json.ts';
import { claimIdJagJti, findIdJagIssuer, findLinkedAccount } from './store.ts';

export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** RFC 8725 §3.1: asymmetric only; `none` and HS* (a shared secret a third party would hold) are never accepted. */
export const ID_JAG_ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
export const CLOCK_SKEW_SECONDS = 30;
/** An ID-JAG is a short-lived grant: one valid for longer than this is refused whatever its `exp`. */
export const MAX_LIFETIME_SECONDS = 600;
const MAX_ASSERTION_LENGTH = 16 * 1024;

/** Why an assertion was refused: the audit trail's `reason`; the client sees invalid_grant with `message`. */
export class IdJagRefusal extends Error {
  override name = 'IdJagRefusal';
  constructor(readonly reason: string, message: string, readonly facts: { issuer?: string; jti?: string } = {}) { super(message); }
}

export interface IdJagVerifyDeps {
  db: Db;
  /** Our issuer identifier: the assertion's `aud` must be exactly it. */
  issuer: string;
  fetch: PublicJsonFetchOptions;
  /** Whether a URI is one of our registered, enabled resources. */
  isResource: (uri: string) => Promise<boolean>;
  now?: () => number;
}

export interface VerifiedIdJag {
  issuer: string; subject: string; jti: string; resource: string; clientId: string;
  accountId: string; scopes: string[];
}

async function issuerKeys(deps: IdJagVerifyDeps, issuer: string) {
  const trusted = await findIdJagIssuer(deps.db, issuer);
  if (!trusted) throw new IdJagRefusal('untrusted_issuer', 'the assertion\'s issuer is not trusted here', { issuer });
  if (trusted.jwks) return createLocalJWKSet(trusted.jwks as JSONWebKeySet);
  const jwksUri = trusted.viaIdentityProvider ? await discoveredJwksUri(deps, issuer) : trusted.jwksUri!;
  const fetched = await fetchPublicJson(new URL(jwksUri), deps.fetch);
  if (!fetched.ok) throw new IdJagRefusal('jwks_unavailable', 'the issuer\'s keys could not be fetched', { issuer });
  try { return createLocalJWKSet(fetched.body as JSONWebKeySet); } catch {
    throw new IdJagRefusal('jwks_unavailable', 'the issuer\'s key set is not a JWKS', { issuer });
  }
}

/** OpenID Connect Discovery 1.0 §4: the document must name exactly this issuer, or its keys are not the issuer's. */
async function discoveredJwksUri(deps: IdJagVerifyDeps, issuer: string): Promise<string> {
  const url = new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const fetched = await fetchPublicJson(url, deps.fetch);
  const document = fetched.ok ? fetched.body as { issuer?: unknown; jwks_uri?: unknown } : undefined;
  if (!document || document.issuer !== issuer || typeof document.jwks_uri !== 'string' || !URL.canParse(document.jwks_uri)) {
    throw new IdJagRefusal('jwks_unavailable', 'the identity provider\'s discovery document names no keys for this issuer', { issuer });
  }
  return document.jwks_uri;
}

const stringClaim = (payload: JWTPayload, name: string) => (typeof payload[name] === 'string' ? payload[name] as string : undefined);

export async function verifyIdJag(deps: IdJagVerifyDeps, request: { assertion: unknown; clientId: string; resource?: string | undefined; scope?: string | undefined }): Promise<VerifiedIdJag> {
  const { assertion } = request;
  if (typeof assertion !== 'string' || assertion === '' || assertion.length > MAX_ASSERTION_LENGTH) {
    throw new IdJagRefusal('malformed', 'assertion must be one JWT');
  }
  // Only to choose the issuer's keys; nothing from it is trusted before jwtVerify below.
  let unverified: JWTPayload;
  try { unverified = decodeJwt(assertion); } catch { throw new IdJagRefusal('malformed', 'assertion is not a JWT'); }
  const issuer = stringClaim(unverified, 'iss');
  if (!issuer) throw new IdJagRefusal('malformed', 'assertion has no iss');
  const keys = await issuerKeys(deps, issuer);
  const now = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      typ: ID_JAG_TYP, algorithms: ID_JAG_ALGS, issuer, audience: deps.issuer,
      clockTolerance: CLOCK_SKEW_SECONDS, maxTokenAge: MAX_LIFETIME_SECONDS, currentDate: new Date(now * 1000),
      requiredClaims: ['sub', 'jti', 'exp', 'iat', 'client_id', 'resource'],
    }));
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'invalid';
    const claim = (error as { claim?: string }).claim;
    throw new IdJagRefusal(claim ? `claim_${claim}` : code.toLowerCase(), `assertion refused: ${(error as Error).message}`, { issuer });
  }
  const jti = stringClaim(payload, 'jti')!;
  const facts = { issuer, jti };
  if (payload.exp! - payload.iat! > MAX_LIFETIME_SECONDS) throw new IdJagRefusal('lifetime', `assertion lifetime exceeds ${MAX_LIFETIME_SECONDS}s`, facts);
  if (stringClaim(payload, 'client_id') !== request.clientId) throw new IdJagRefusal('client_mismatch', 'assertion was issued to another client', facts);
  const resource = stringClaim(payload, 'resource');
  if (!resource || !(await deps.isResource(resource))) throw new IdJagRefusal('unknown_resource', 'assertion names no resource registered here', facts);
  if (request.resource !== undefined && request.resource !== resource) throw new IdJagRefusal('resource_mismatch', 'resource differs from the assertion\'s', facts);
  const subject = stringClaim(payload, 'sub')!;
  const accountId = await findLinkedAccount(deps.db, issuer, subject);
  if (!accountId) throw new IdJagRefusal('unknown_subject', 'the assertion\'s subject is not linked to an account here', facts);
  // Last, so a refused assertion does not burn its jti; atomic across processes (store.ts).
  if (!(await claimIdJagJti(deps.db, issuer, jti, new Date((payload.exp! + CLOCK_SKEW_SECONDS) * 1000)))) {
    throw new IdJagRefusal('replayed', 'assertion was already used', facts);
  }
  const asserted = (stringClaim(payload, 'scope') ?? '').split(' ').filter(Boolean);
  const asked = request.scope === undefined ? undefined : new Set(request.scope.split(' ').filter(Boolean));
  return { issuer, subject, jti, resource, clientId: request.clientId, accountId, scopes: asked ? asserted.filter((s) => asked.has(s)) : asserted };
}
