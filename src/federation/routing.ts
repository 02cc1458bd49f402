// Which identity provider a sign-in goes to: the enabled ones the login page offers ("Continue with …"),
// and the one an email address's domain is bound to (normalised as identity_provider_domains is written).
import type { Queryable } from '../db/db.ts';
import { emailDomainOf } from '../cimd/host-name.ts';
import { findProviderIdForDomain } from './sign-in-store.ts';
import { findProviderById, listProviders, type IdentityProvider } from './store.ts';

export interface SignInChoice { name: string; displayName: string }

export async function signInChoices(db: Queryable): Promise<SignInChoice[]> {
  return (await listProviders(db)).filter((p) => p.disabledAt === null).map((p) => ({ name: p.name, displayName: p.displayName }));
}

/** The provider this email's domain is bound to (enabled or not), if any. */
export async function providerForEmail(db: Queryable, email: string): Promise<IdentityProvider | undefined> {
  const domain = emailDomainOf(email);
  const id = domain === undefined ? undefined : await findProviderIdForDomain(db, domain);
  return id === undefined ? undefined : findProviderById(db, id);
}
