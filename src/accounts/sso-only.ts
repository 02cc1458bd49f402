// "SSO only" email domains (issue 12): an identity provider marked --sso-only owns password sign-in for its
// domains, so no password form (authorization flow, /account, console) signs in an address there, whether
// or not a local account with a password exists. Asked by the one password sign-in service (sign-in.ts).
import type { Queryable } from '../db/db.ts';
import { emailDomainOf } from '../cimd/host-name.ts';

export interface SsoOnlyDomain { domain: string; providerName: string; displayName: string; disabled: boolean }

/**
 * The SSO-only provider this email's domain belongs to, if any. A disabled provider still holds its domain:
 * disabling it cuts its people off, it does not reopen password sign-in for them (use --no-sso-only for that).
 */
export async function ssoOnlyDomainOf(db: Queryable, email: string): Promise<SsoOnlyDomain | undefined> {
  const domain = emailDomainOf(email);
  if (domain === undefined) return undefined;
  const { rows: [row] } = await db.query<{ name: string; display_name: string; disabled: boolean }>(
    `SELECT p.name, p.display_name, p.disabled_at IS NOT NULL AS disabled FROM identity_provider_domains d
     JOIN identity_providers p ON p.id = d.provider_id WHERE d.domain = $1 AND p.sso_only`, [domain]);
  return row && { domain, providerName: row.name, displayName: row.display_name, disabled: row.disabled };
}

export const ssoOnlyMessage = (sso: SsoOnlyDomain) =>
  `Accounts at ${sso.domain} sign in with ${sso.displayName}, not with a password.`;
