// Who a federated sign-in is (issue 12, "Accounts"): the identity is the pair (provider, subject), never an
// email. A known pair signs its account in; an unknown one links an existing account only when the provider is
// authoritative for the email's domain and says the address is verified, else creates one when allowed, else
// is refused. One transaction with its audit events, the provider named in each.
import type { Db, Queryable } from '../db/db.ts';
import type { Account } from '../accounts/schema.ts';
import { findAccountByEmail, findAccountById, insertAccount, EmailTakenError } from '../accounts/store.ts';
import { recordAuditEvent } from '../audit/store.ts';
import type { AuditEvent } from '../audit/event.ts';
import { emailDomainOf } from '../cimd/host-name.ts';
import { AppError } from '../errors.ts';
import type { StoredClaims } from './claims.ts';
import { findIdentity, insertIdentity, recordIdentitySignIn } from './sign-in-store.ts';
import type { IdentityProvider } from './store.ts';

export interface UpstreamPerson { subject: string; email: string | undefined; emailVerified: boolean; claims: StoredClaims }
export interface RequestFacts { ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined }
class RefusedInTransaction extends Error {}

export interface FederatedOutcome { account: Account; created: boolean; linked: boolean }

/** Why a federated sign-in found no account it may sign in: the audit reason, and the words the person reads. */
const REFUSALS = {
  account_disabled: 'This account is disabled. Ask your administrator.',
  email_missing: 'Your identity provider did not say your email address, so no account could be found or created.',
  email_not_verified: 'Your identity provider does not vouch for this email address (it is not verified), so it cannot sign you in to an account with it.',
  not_authoritative: 'An account with this email already exists here, and this identity provider is not the one that manages its domain, so it cannot sign you in to it. Sign in the way you usually do.',
  account_creation_off: 'There is no account for you here, and this identity provider does not create new ones. Ask your administrator.',
  domain_not_bound: 'There is no account for you here, and this identity provider creates accounts only for its own email domains.',
} as const;
export type RefusalReason = keyof typeof REFUSALS;

async function refuse(db: Queryable, provider: IdentityProvider, reason: RefusalReason, facts: RequestFacts, extra: Record<string, unknown> = {}): Promise<never> {
  await recordAuditEvent(db, {
    type: 'federation.refused', outcome: 'failure', actor: { type: 'user' }, ...facts,
    details: { provider: provider.name, provider_id: provider.id, reason, ...extra },
  });
  throw new AppError('federation_refused', REFUSALS[reason]);
}

function signedIn(provider: IdentityProvider, account: Account, facts: RequestFacts, extra: Record<string, unknown>): AuditEvent {
  return {
    type: 'login.succeeded', actor: { type: 'user', id: account.id }, accountId: account.id, ...facts,
    details: { via: 'federation', provider: provider.name, provider_id: provider.id, ...extra },
  };
}

export async function resolveFederatedAccount(db: Db, provider: IdentityProvider, person: UpstreamPerson, facts: RequestFacts): Promise<FederatedOutcome> {
  // Refusals are recorded outside the transaction that throws them, so their audit rows stay.
  const refusal: { reason?: RefusalReason; extra?: Record<string, unknown> } = {};
  const no = (reason: RefusalReason, extra?: Record<string, unknown>): never => {
    refusal.reason = reason;
    refusal.extra = extra;
    throw new RefusedInTransaction(reason);
  };
  try {
    return await db.transaction(async (tx) => {
      const known = await findIdentity(tx, provider.id, person.subject);
      const email = person.email ?? null;
      if (known) {
        // The pair decides; a changed email claim is noted on the identity, and moves nothing.
        const account = await findAccountById(tx, known.accountId);
        if (!account || account.disabled) return no('account_disabled');
        await recordIdentitySignIn(tx, { providerId: provider.id, subject: person.subject, email, claims: person.claims });
        await recordAuditEvent(tx, signedIn(provider, account, facts, {}));
        return { account, created: false, linked: false };
      }
      if (!person.email) return no('email_missing');
      const domain = emailDomainOf(person.email);
      const authoritative = domain !== undefined && provider.domains.includes(domain);
      const existing = await findAccountByEmail(tx, person.email);
      if (existing) {
        // No takeover by claiming an email: only the domain's own provider, vouching for the address, links.
        if (!authoritative) return no('not_authoritative', { account_id: existing.id });
        if (!person.emailVerified) return no('email_not_verified', { account_id: existing.id });
        if (existing.disabled) return no('account_disabled');
        await insertIdentity(tx, { providerId: provider.id, subject: person.subject, accountId: existing.id, email, claims: person.claims });
        await recordAuditEvent(tx, {
          type: 'federation.linked', actor: { type: 'user', id: existing.id }, accountId: existing.id, ...facts,
          details: { provider: provider.name, provider_id: provider.id, subject: person.subject, domain },
        });
        await recordAuditEvent(tx, signedIn(provider, existing, facts, { linked: true }));
        return { account: existing, created: false, linked: true };
      }
      if (!provider.createAccounts) return no('account_creation_off');
      // An account's email is who consent policies and operators take it to be: only a verified one is taken.
      if (!person.emailVerified) return no('email_not_verified');
      if (provider.domains.length > 0 && !authoritative) return no('domain_not_bound', { domain });
      const created = await insertAccount(tx, { email: person.email, passwordHash: null, isAdmin: false });
      const account: Account = { id: created.id, email: created.email, isAdmin: created.isAdmin, disabled: created.disabled };
      await insertIdentity(tx, { providerId: provider.id, subject: person.subject, accountId: account.id, email, claims: person.claims });
      await recordAuditEvent(tx, {
        type: 'account.created', actor: { type: 'user', id: account.id }, accountId: account.id, ...facts,
        details: { via: 'federation', provider: provider.name, provider_id: provider.id },
      });
      await recordAuditEvent(tx, signedIn(provider, account, facts, { created: true }));
      return { account, created: true, linked: false };
    });
  } catch (error) {
    if (error instanceof RefusedInTransaction && refusal.reason) return refuse(db, provider, refusal.reason, facts, refusal.extra);
    // Two first sign-ins with one email at once: the loser is told as if it had come second.
    if (error instanceof EmailTakenError) return refuse(db, provider, 'not_authoritative', facts);
    throw error;
  }
}
