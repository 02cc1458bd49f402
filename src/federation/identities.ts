// A person's linked identities, for /account: the list, unlinking one while another way to sign in remains
// (a password their domain still accepts, or an identity at an enabled provider), and the provider's
// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) to offer after signing out here.
import * as client from 'openid-client';
import type { Db } from '../db/db.ts';
import { ssoOnlyDomainOf } from '../accounts/sso-only.ts';
import { findAccountById } from '../accounts/store.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import type { RequestFacts } from './link.ts';
import {
  accountHasPassword, deleteIdentity, lastFederatedSignInProviderId, listIdentitiesOfAccount, type FederatedIdentity,
} from './sign-in-store.ts';
import { findProviderById, findProviderByName } from './store.ts';
import { upstreamConfiguration, type UpstreamDeps } from './upstream.ts';

export const listLinkedIdentities = (db: Db, accountId: string): Promise<FederatedIdentity[]> => listIdentitiesOfAccount(db, accountId);

/** Whether this account can still sign in by password: it has one, and its email's domain is not SSO only. */
async function passwordStillWorks(db: Db, accountId: string): Promise<boolean> {
  const account = await findAccountById(db, accountId);
  if (!account || !(await accountHasPassword(db, accountId))) return false;
  return (await ssoOnlyDomainOf(db, account.email)) === undefined;
}

export async function unlinkIdentity(db: Db, accountId: string, providerId: string, facts: RequestFacts): Promise<FederatedIdentity> {
  const identities = await listIdentitiesOfAccount(db, accountId);
  const identity = identities.find((i) => i.providerId === providerId);
  if (!identity) throw new AppError('not_found', 'That identity is not linked to your account.');
  const others = identities.filter((i) => i.providerId !== providerId && !i.providerDisabled);
  if (others.length === 0 && !(await passwordStillWorks(db, accountId))) {
    throw new AppError('last_sign_in_method', `${identity.providerDisplayName} is the only way you can sign in, so it stays linked.`);
  }
  await db.transaction(async (tx) => {
    await deleteIdentity(tx, accountId, providerId);
    await recordAuditEvent(tx, {
      type: 'federation.unlinked', actor: { type: 'user', id: accountId }, accountId, ...facts,
      details: { provider: identity.providerName, provider_id: providerId, subject: identity.subject },
    });
  });
  return identity;
}

export interface UpstreamLogout { displayName: string; href: string }

/** The provider the account's latest sign-in came through, if it was federated and that provider is enabled. */
export async function latestSignInProvider(db: Db, accountId: string): Promise<string | undefined> {
  const providerId = await lastFederatedSignInProviderId(db, accountId);
  const provider = providerId ? await findProviderById(db, providerId) : undefined;
  return provider && !provider.disabledAt ? provider.name : undefined;
}

/**
 * Where to sign out at the provider too, when its discovery document names an end_session_endpoint (RP-Initiated
 * Logout 1.0 §2); undefined otherwise (GitHub has none), or when the provider cannot be reached just now.
 */
export async function upstreamLogoutLink(db: Db, deps: UpstreamDeps, providerName: string): Promise<UpstreamLogout | undefined> {
  const provider = await findProviderByName(db, providerName);
  if (!provider || provider.kind !== 'oidc' || provider.disabledAt) return undefined;
  try {
    const config = await upstreamConfiguration(provider, deps);
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return { displayName: provider.displayName, href: client.buildEndSessionUrl(config).href };
  } catch {
    return undefined;
  }
}
