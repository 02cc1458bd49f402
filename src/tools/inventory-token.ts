// The access token Portcullis issues itself to call a resource's tools/list (issue 14 §1). Decision: a JWT
// access token (RFC 9068) signed with our current signing key, audience exactly the resource, the resource's
// read scopes only, `client_id` and `sub` the reserved INVENTORY_CLIENT_ID, 60 s of life, one `jti` per listing.
// No client can obtain it; the kit refuses every tools/call made with it (packages/resource-server/src/tool-pins.ts).
// An opaque-token resource's server introspects it instead: /token/introspection answers our JWT access tokens
// (oidc/introspection-endpoint.ts), active for that resource's own introspection client only.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { INVENTORY_CLIENT_ID } from '@portcullis/resource-server';
import type { Queryable } from '../db/db.ts';
import { loadSigningJwks } from '../oidc/keys.ts';
import type { Resource } from '../resources/schema.ts';

export const INVENTORY_TOKEN_TTL_SECONDS = 60;

/** A database no server has started on yet has no signing key: the inventory is then a recorded failure. */
export class NoSigningKeyError extends Error {
  override name = 'NoSigningKeyError';
}

/** The token and what the audit trail keeps of it (its jti, never the token). */
export interface InventoryToken { token: string; jti: string; scopes: string[] }

export async function issueInventoryToken(db: Queryable, keyEncryptionSecret: string, issuer: string, resource: Resource): Promise<InventoryToken> {
  const [key] = await loadSigningJwks(db, keyEncryptionSecret);
  if (!key?.alg || !key.kid) throw new NoSigningKeyError('there is no signing key yet to issue the inventory token with (start the server once, or run keys rotate)');
  const scopes = resource.scopes.filter((s) => s.risk === 'read').map((s) => s.scope);
  const jti = randomUUID();
  const token = await new SignJWT({ client_id: INVENTORY_CLIENT_ID, scope: scopes.join(' '), jti })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(issuer).setAudience(resource.uri).setSubject(INVENTORY_CLIENT_ID)
    .setIssuedAt().setExpirationTime(`${INVENTORY_TOKEN_TTL_SECONDS}s`)
    .sign(await importJWK(key, key.alg));
  return { token, jti, scopes };
}
