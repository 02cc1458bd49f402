// Revoking a person's grants through oidc-provider's own models: the Grant, and with it every token
// issued under it, at once; each revocation is recorded as `grant.revoked` by the account.
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { listGrantIdsForClient } from './store.ts';

export interface RevocationFacts { ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined }

/**
 * Revokes one grant if it is live and belongs to `accountId`; false (and nothing touched) otherwise.
 * The Grant goes first: a refresh racing this request may still save a successor token, but it is
 * worthless without its grant (oidc-provider refuses a refresh whose Grant is gone: invalid_grant).
 */
export async function revokeGrantOfAccount(
  provider: Provider, db: Db, accountId: string, grantId: string, facts: RevocationFacts = {},
): Promise<boolean> {
  const grant = await provider.Grant.find(grantId);
  if (!grant || grant.accountId !== accountId) return false;
  await grant.destroy();
  // What oidc-provider's own revocation revokes for a code-flow client (lib/helpers/revoke.js).
  await Promise.all([provider.RefreshToken, provider.AccessToken, provider.AuthorizationCode]
    .map((model) => model.revokeByGrantId(grantId)));
  const resources = Object.entries(grant.resources ?? {});
  await recordAuditEvent(db, {
    type: 'grant.revoked',
    // The person ended their own grant: named here, not inferred from the event's account.
    actor: { type: 'user', id: accountId },
    accountId,
    clientId: grant.clientId,
    resource: resources.length === 1 ? resources[0]?.[0] : undefined,
    scopes: resources.length === 1 ? String(resources[0]?.[1] ?? '') : undefined,
    ...facts,
    details: { grant_id: grantId, revoked_by: 'account' },
  });
  return true;
}

/** Revokes every grant the account has given this client; the number revoked (0: none was theirs). */
export async function revokeClientGrantsOfAccount(
  provider: Provider, db: Db, accountId: string, clientId: string, facts: RevocationFacts = {},
): Promise<number> {
  let revoked = 0;
  for (const grantId of await listGrantIdsForClient(db, accountId, clientId)) {
    if (await revokeGrantOfAccount(provider, db, accountId, grantId, facts)) revoked += 1;
  }
  return revoked;
}
