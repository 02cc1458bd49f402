// SQL for identity providers and their email domains (migrations/0024): rows in, records out, nothing decided here.
import type { Queryable } from '../db/db.ts';

export interface IdentityProvider {
  id: string; name: string; displayName: string; kind: 'oidc' | 'github'; preset: string | null;
  issuer: string | null; tenant: string | null; clientId: string; clientSecretJwe: string; scopes: string[];
  emailClaim: string; groupsClaim: string | null; createAccounts: boolean; ssoOnly: boolean; idJag: boolean;
  domains: string[]; disabledAt: Date | null; createdAt: Date; updatedAt: Date;
}

interface Row {
  id: string; name: string; display_name: string; kind: 'oidc' | 'github'; preset: string | null; issuer: string | null;
  tenant: string | null; client_id: string; client_secret_jwe: string; scopes: string[]; email_claim: string;
  groups_claim: string | null; create_accounts: boolean; sso_only: boolean; id_jag: boolean; domains: string[] | null;
  disabled_at: Date | null; created_at: Date; updated_at: Date;
}

const SELECT = `SELECT p.*, COALESCE((SELECT array_agg(d.domain ORDER BY d.domain) FROM identity_provider_domains d
  WHERE d.provider_id = p.id), '{}') AS domains FROM identity_providers p`;

const record = (row: Row): IdentityProvider => ({
  id: row.id, name: row.name, displayName: row.display_name, kind: row.kind, preset: row.preset, issuer: row.issuer,
  tenant: row.tenant, clientId: row.client_id, clientSecretJwe: row.client_secret_jwe, scopes: row.scopes,
  emailClaim: row.email_claim, groupsClaim: row.groups_claim, createAccounts: row.create_accounts, ssoOnly: row.sso_only,
  idJag: row.id_jag, domains: row.domains ?? [], disabledAt: row.disabled_at, createdAt: row.created_at, updatedAt: row.updated_at,
});

export type ProviderRow = Omit<IdentityProvider, 'domains' | 'disabledAt' | 'createdAt' | 'updatedAt'>;

export async function insertProvider(db: Queryable, p: ProviderRow): Promise<void> {
  await db.query(
    `INSERT INTO identity_providers (id, name, display_name, kind, preset, issuer, tenant, client_id, client_secret_jwe,
       scopes, email_claim, groups_claim, create_accounts, sso_only, id_jag)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [p.id, p.name, p.displayName, p.kind, p.preset, p.issuer, p.tenant, p.clientId, p.clientSecretJwe, p.scopes,
      p.emailClaim, p.groupsClaim, p.createAccounts, p.ssoOnly, p.idJag]);
}

export async function updateProviderRow(db: Queryable, p: ProviderRow, disabled: boolean): Promise<void> {
  await db.query(
    `UPDATE identity_providers SET display_name = $2, kind = $3, preset = $4, issuer = $5, tenant = $6, client_id = $7,
       client_secret_jwe = $8, scopes = $9, email_claim = $10, groups_claim = $11, create_accounts = $12, sso_only = $13,
       id_jag = $14, disabled_at = CASE WHEN $15::boolean THEN COALESCE(disabled_at, now()) ELSE NULL END, updated_at = now()
     WHERE id = $1`,
    [p.id, p.displayName, p.kind, p.preset, p.issuer, p.tenant, p.clientId, p.clientSecretJwe, p.scopes, p.emailClaim,
      p.groupsClaim, p.createAccounts, p.ssoOnly, p.idJag, disabled]);
}

/** Domains already claimed by another provider than `providerId`. */
export async function claimedDomains(db: Queryable, domains: string[], providerId: string): Promise<{ domain: string; name: string }[]> {
  if (domains.length === 0) return [];
  const { rows } = await db.query<{ domain: string; name: string }>(
    `SELECT d.domain, p.name FROM identity_provider_domains d JOIN identity_providers p ON p.id = d.provider_id
     WHERE d.domain = ANY($1::text[]) AND d.provider_id <> $2 ORDER BY d.domain`, [domains, providerId]);
  return rows;
}

export async function replaceDomains(db: Queryable, providerId: string, domains: string[]): Promise<void> {
  await db.query('DELETE FROM identity_provider_domains WHERE provider_id = $1', [providerId]);
  for (const domain of domains) {
    await db.query('INSERT INTO identity_provider_domains (domain, provider_id) VALUES ($1, $2)', [domain, providerId]);
  }
}

export async function findProviderByName(db: Queryable, name: string): Promise<IdentityProvider | undefined> {
  const { rows: [row] } = await db.query<Row>(`${SELECT} WHERE p.name = $1`, [name]);
  return row && record(row);
}

export async function listProviders(db: Queryable): Promise<IdentityProvider[]> {
  const { rows } = await db.query<Row>(`${SELECT} ORDER BY p.name`);
  return rows.map(record);
}

export async function deleteProvider(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM identity_providers WHERE id = $1', [id]);
}

/** A provider's subject linked to an account, with the claims policies are judged on (src/policies/). */
export async function insertFederatedIdentity(db: Queryable, identity: {
  providerId: string; subject: string; accountId: string; email: string | null; claims: Record<string, unknown>;
}): Promise<void> {
  await db.query(
    'INSERT INTO federated_identities (provider_id, subject, account_id, email, claims) VALUES ($1, $2, $3, $4, $5::jsonb)',
    [identity.providerId, identity.subject, identity.accountId, identity.email, JSON.stringify(identity.claims)]);
}

export async function findProviderById(db: Queryable, id: string): Promise<IdentityProvider | undefined> {
  const { rows: [row] } = await db.query<Row>(`${SELECT} WHERE p.id = $1`, [id]);
  return row && record(row);
}
