// What a verified token tells the MCP server (shaped to be the MCP SDKs' `AuthInfo` as is), and the
// claim checks JWT and introspection share: audience bound to exactly this resource, client_id, exp.
import { invalidToken } from './errors.ts';
import { sameResource } from './resource-uri.ts';

/** What a verified access token says, checked: audience, expiry, issuer and scopes already enforced. */
export interface AccessTokenInfo {
  /** The access token itself. Never forward it to another service (see README: no token passthrough). */
  token: string;
  /** The `client_id` claim: the OAuth client that obtained the token. */
  clientId: string;
  /** The `scope` claim, split. */
  scopes: string[];
  /** `exp`, in seconds since the epoch. */
  expiresAt: number;
  /** `sub`: the user (or, for a client-credentials token, the client). */
  subject: string | undefined;
  /**
   * Who the token acts for: `person` when a person authorized it (`sub` is theirs), `client` when the
   * client acts as itself with no person (the client_credentials grant, a machine client): RFC 9068 §2.2
   * gives such a token the client's own identifier as `sub`, and an introspection answer has no `sub`.
   */
  actsFor: 'person' | 'client';
  /** The resource the token is for: always this server's canonical resource. */
  resource: URL;
  /** This resource's RFC 9728 metadata URL (the MCP SDK v2 uses it in its own scope challenges). */
  resourceMetadataUrl: string;
  /** Every claim of the JWT, or every member of the introspection response. */
  claims: Readonly<Record<string, unknown>>;
  /** `subject`, `actsFor` and `claims` again, where the MCP SDKs' `AuthInfo` type lets handlers read them. */
  extra: { subject: string | undefined; actsFor: 'person' | 'client'; claims: Readonly<Record<string, unknown>> };
}

/**
 * MCP §Token Audience Binding: `aud` must name this resource. An array is accepted only with a single
 * entry: a token good for several audiences could be replayed by any of them against us.
 */
export function checkAudience(aud: unknown, resource: string): void {
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (audiences.length !== 1) throw invalidToken('the token is not for this resource only');
  const [only] = audiences;
  if (typeof only !== 'string' || !sameResource(only, resource)) throw invalidToken('the token is not for this resource');
}

/**
 * RFC 9449 §6: the DPoP key a token is bound to (`cnf.jkt`), or undefined for a bearer token. Any other
 * confirmation (mTLS `x5t#S256`, RFC 8705) is refused: this kit cannot check it, and it must not pass as bearer.
 */
export function boundDpopKey(claims: Readonly<Record<string, unknown>>): string | undefined {
  const cnf = claims.cnf;
  if (cnf === undefined) return undefined;
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>).jkt : undefined;
  if (typeof jkt !== 'string' || jkt === '' || Object.keys(cnf as object).length !== 1) {
    throw invalidToken('the token is sender-constrained');
  }
  return jkt;
}

export function toAccessTokenInfo(
  token: string,
  claims: Record<string, unknown>,
  context: { resource: string; resourceMetadataUrl: string },
): AccessTokenInfo {
  const { client_id: clientId, scope, exp, sub } = claims;
  if (typeof clientId !== 'string' || clientId === '') throw invalidToken('the token has no client_id');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalidToken('the token has no expiry');
  if (scope !== undefined && typeof scope !== 'string') throw invalidToken('the token scope is malformed');
  if (sub !== undefined && typeof sub !== 'string') throw invalidToken('the token subject is malformed');
  const subject = sub;
  const actsFor = subject === undefined || subject === clientId ? 'client' : 'person';
  return {
    token,
    clientId,
    scopes: scope ? scope.split(' ').filter(Boolean) : [],
    expiresAt: exp,
    subject,
    actsFor,
    resource: new URL(context.resource),
    resourceMetadataUrl: context.resourceMetadataUrl,
    claims,
    extra: { subject, actsFor, claims },
  };
}
