// The subject token of a token exchange (RFC 8693 §2.1): one of our access tokens, opaque (looked up through
// oidc-provider's AccessToken model) or JWT (verified with our published keys), and the person's grant behind it.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Queryable } from '../db/db.ts';
import { listLiveGrantIds } from './store.ts';

/** What the exchange needs of a subject token; `grantIds`: the person's live grants it was issued under. */
export interface SubjectToken {
  accountId: string;
  clientId: string;
  audience: string;
  scope: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  grantIds: string[];
  /** The subject token's own `act` (it was itself exchanged): nested in the new one (RFC 8693 §4.1). */
  act?: Record<string, unknown> | undefined;
}

/** Why a subject token is refused: each becomes invalid_grant with its own audited reason. */
export class SubjectTokenRefusal extends Error {
  constructor(readonly reason: 'unknown_token' | 'no_person' | 'grant_revoked', message: string) { super(message); }
}

const isJwtShaped = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
const epoch = () => Math.floor(Date.now() / 1000);

/** Verifies one of our JWT access tokens; undefined when it is not valid (src/oidc/introspection-endpoint.ts). */
export type OwnJwtVerifier = (token: string) => Promise<Record<string, unknown> | undefined>;

export async function readSubjectToken(ctx: KoaContextWithOIDC, db: Queryable, verifyJwt: OwnJwtVerifier, value: string): Promise<SubjectToken> {
  const provider = ctx.oidc.provider;
  if (isJwtShaped(value)) {
    const claims = await verifyJwt(value);
    if (!claims) throw new SubjectTokenRefusal('unknown_token', 'subject_token is not a valid access token issued here');
    const { sub, client_id: clientId, aud, scope, exp, act } = claims;
    if (typeof clientId !== 'string' || typeof aud !== 'string' || typeof exp !== 'number') {
      throw new SubjectTokenRefusal('unknown_token', 'subject_token is not a valid access token issued here');
    }
    // A client-credentials token's sub is its client: no person to act for.
    if (typeof sub !== 'string' || sub === clientId) throw new SubjectTokenRefusal('no_person', 'subject_token acts for no person');
    // A JWT does not name its grant: the person's live grants to that client for that resource are its grants.
    const grantIds = await listLiveGrantIds(db, sub, clientId, aud);
    if (grantIds.length === 0) throw new SubjectTokenRefusal('grant_revoked', 'the grant behind subject_token was revoked');
    return { accountId: sub, clientId, audience: aud, scope: typeof scope === 'string' ? scope : '', expiresAt: exp, grantIds, act: asObject(act) };
  }
  const token = value.length <= 512 ? await provider.AccessToken.find(value) : undefined;
  if (!token || token.isExpired || typeof token.aud !== 'string' || typeof token.exp !== 'number') {
    throw new SubjectTokenRefusal('unknown_token', 'subject_token is not a valid access token issued here');
  }
  if (!token.accountId) throw new SubjectTokenRefusal('no_person', 'subject_token acts for no person');
  const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined;
  if (!grant || grant.accountId !== token.accountId || grant.clientId !== token.clientId) {
    throw new SubjectTokenRefusal('grant_revoked', 'the grant behind subject_token was revoked');
  }
  const extra = (token as { extra?: Record<string, unknown> }).extra;
  return {
    accountId: token.accountId, clientId: token.clientId!, audience: token.aud, scope: token.scope ?? '',
    expiresAt: token.exp, grantIds: [token.grantId!], act: asObject(extra?.act),
  };
}

const asObject = (value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined);

/** Seconds the subject token has left (at least 0). */
export const remainingSeconds = (subject: SubjectToken) => Math.max(0, subject.expiresAt - epoch());
