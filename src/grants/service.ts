// The grants service, under the /account portal: what a person has granted (and the security events about
// it), and revoking their own grants, each ending the one way every grant ends (endGrants: the Grant and
// every token issued under it, at once), recorded as `grant.revoked` with the person as its actor.
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import {
  endGrants, listGrantIdsForClient, listGrantsForAccount, listSecurityEventsForAccount, type GrantSummary, type SecurityEvent,
} from './store.ts';

/** The form fields a revocation names, as a browser sends them (unknown fields are ignored). */
export const grantRevocationInput = z.object({ grant_id: z.string().min(1).max(200) });
export const clientRevocationInput = z.object({ client_id: z.string().min(1).max(2048) });

/** What /account shows a person: every grant they gave, and the latest security events of their account. */
export async function accountAccessOverview(
  db: Db, accountId: string, eventTypes: readonly string[], eventLimit: number,
): Promise<{ grants: GrantSummary[]; events: SecurityEvent[] }> {
  const [grants, events] = await Promise.all([
    listGrantsForAccount(db, accountId),
    listSecurityEventsForAccount(db, accountId, eventTypes, eventLimit),
  ]);
  return { grants, events };
}

export interface RevocationFacts { ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined }

/**
 * Revokes one grant if it is live and belongs to `accountId`; false (and nothing touched) otherwise.
 * The grant and its tokens go in one statement; a refresh racing it that saves a successor token anyway
 * gets a worthless one (oidc-provider refuses a refresh whose Grant is gone: invalid_grant).
 */
export async function revokeGrantOfAccount(
  provider: Provider, db: Db, accountId: string, grantId: string, facts: RevocationFacts = {},
): Promise<boolean> {
  const grant = await provider.Grant.find(grantId);
  if (!grant || grant.accountId !== accountId) return false;
  // Read through oidc-provider for what the audit event says (client, resources); the ownership check is
  // repeated in the DELETE, so a grant revoked concurrently is counted (and audited) once.
  if ((await endGrants(db, { accountId, grantIds: [grantId] })) === 0) return false;
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
