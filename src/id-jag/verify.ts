// Checks an Identity Assertion JWT Authorization Grant (MCP ext-auth Enterprise-Managed Authorization §5.1,
// RFC 7523 §3, RFC 7521 §5.2) with jose: typ, asymmetric algorithm, trusted issuer's keys, aud, client_id,
// resource, exp/iat window, single-use jti; yields who it is for and which scopes it may carry.
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Db } from '../db/db.ts';
import type { IssuerKeyCache, IssuerKeys } from './key-cache.ts';
import { IdJagRefusal } from './refusal.ts';
import { claimIdJagJti, findIdJagIssuer, findLinkedAccount } from './store.ts';

export { IdJagRefusal };

export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** RFC 8725 §3.1: asymmetric only; `none` and HS* (a shared secret a third party would hold) are never accepted. */
export const ID_JAG_ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
export const CLOCK_SKEW_SECONDS = 30;
/** An ID-JAG is a short-lived grant: one valid for longer than this is refused whatever its `exp`. */
export const MAX_LIFETIME_SECONDS = 600;
const MAX_ASSERTION_LENGTH = 16 * 1024;

export interface IdJagVerifyDeps {
  db: Db;
  /** Our issuer identifier: the assertion's `aud` must be exactly it. */
  issuer: string;
  keys: IssuerKeyCache;
  /** The scopes a registered, enabled resource declares (for this client), or undefined when it is none of ours. */
  resourceScopes: (uri: string) => Promise<string[] | undefined>;
  now?: () => number;
}

export interface VerifiedIdJag {
  issuer: string; subject: string; jti: string; resource: string; clientId: string;
  accountId: string; scopes: string[];
}

/** The trusted issuer's keys: an operator's JWKS document, its JWKS URL, or a federated provider's discovery. */
async function issuerKeys(deps: IdJagVerifyDeps, issuer: string, fresh = false): Promise<IssuerKeys> {
  const trusted = await findIdJagIssuer(deps.db, issuer);
  if (!trusted) throw new IdJagRefusal('untrusted_issuer', 'the assertion\'s issuer is not trusted here', { issuer });
  if (trusted.jwks) return { keys: createLocalJWKSet(trusted.jwks as JSONWebKeySet), refetchable: false };
  return deps.keys.keysFor(issuer, trusted.viaIdentityProvider ? { discoverFrom: issuer } : { jwksUri: trusted.jwksUri! }, fresh);
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
  const now = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  const verify = (keys: IssuerKeys['keys']) => jwtVerify(assertion, keys, {
    typ: ID_JAG_TYP, algorithms: ID_JAG_ALGS, issuer, audience: deps.issuer,
    clockTolerance: CLOCK_SKEW_SECONDS, maxTokenAge: MAX_LIFETIME_SECONDS, currentDate: new Date(now * 1000),
    requiredClaims: ['sub', 'jti', 'exp', 'iat', 'client_id', 'resource'],
  });
  let payload: JWTPayload;
  try {
    const cached = await issuerKeys(deps, issuer);
    try {
      ({ payload } = await verify(cached.keys));
    } catch (error) {
      // The IdP may have rotated its keys since they were cached: fetch them once more, from the same source.
      if ((error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || !cached.refetchable) throw error;
      ({ payload } = await verify((await issuerKeys(deps, issuer, true)).keys));
    }
  } catch (error) {
    if (error instanceof IdJagRefusal) throw error;
    const code = (error as { code?: string }).code ?? 'invalid';
    const claim = (error as { claim?: string }).claim;
    throw new IdJagRefusal(claim ? `claim_${claim}` : code.toLowerCase(), `assertion refused: ${(error as Error).message}`, { issuer });
  }
  const jti = stringClaim(payload, 'jti')!;
  const facts = { issuer, jti };
  if (payload.exp! - payload.iat! > MAX_LIFETIME_SECONDS) throw new IdJagRefusal('lifetime', `assertion lifetime exceeds ${MAX_LIFETIME_SECONDS}s`, facts);
  if (stringClaim(payload, 'client_id') !== request.clientId) throw new IdJagRefusal('client_mismatch', 'assertion was issued to another client', facts);
  const resource = stringClaim(payload, 'resource');
  const declared = resource === undefined ? undefined : await deps.resourceScopes(resource);
  if (!resource || !declared) throw new IdJagRefusal('unknown_resource', 'assertion names no resource registered here', facts);
  if (request.resource !== undefined && request.resource !== resource) throw new IdJagRefusal('resource_mismatch', 'resource differs from the assertion\'s', facts);
  // The extension §7.6.2: a `scope` claim naming scopes the resource does not declare is refused, not trimmed.
  const asserted = (stringClaim(payload, 'scope') ?? '').split(' ').filter(Boolean);
  const undeclared = asserted.filter((s) => !declared.includes(s));
  if (undeclared.length > 0) throw new IdJagRefusal('unknown_scope', `assertion grants scopes ${resource} does not declare: ${undeclared.join(' ')}`, facts);
  const subject = stringClaim(payload, 'sub')!;
  const accountId = await findLinkedAccount(deps.db, issuer, subject);
  if (!accountId) throw new IdJagRefusal('unknown_subject', 'the assertion\'s subject is not linked to an account here', facts);
  // Last, so a refused assertion does not burn its jti; atomic across processes (store.ts).
  if (!(await claimIdJagJti(deps.db, issuer, jti, new Date((payload.exp! + CLOCK_SKEW_SECONDS) * 1000)))) {
    throw new IdJagRefusal('replayed', 'assertion was already used', facts);
  }
  const asked = request.scope === undefined ? undefined : new Set(request.scope.split(' ').filter(Boolean));
  return { issuer, subject, jti, resource, clientId: request.clientId, accountId, scopes: asked ? asserted.filter((s) => asked.has(s)) : asserted };
}
