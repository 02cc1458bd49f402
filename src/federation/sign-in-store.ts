// SQL for federated sign-in (migrations/0024, 0026): the attempts sent upstream (spent once), the identities
// linked to accounts, and which provider an email domain belongs to. Rows in, records out; nothing decided here.
import type { Queryable } from '../db/db.ts';

/** interactionUid null: a sign-in started at /account, outside any authorization. */
export interface SignInAttempt { state: string; interactionUid: string | null; providerId: string; nonce: string; codeVerifier: string }

export async function insertAttempt(db: Queryable, attempt: SignInAttempt, ttlSeconds: number): Promise<void> {
  // Expired attempts go as new ones come: the table holds only sign-ins in flight.
  await db.query('DELETE FROM federation_sign_in_attempts WHERE expires_at < now()');
  await db.query(
    `INSERT INTO federation_sign_in_attempts (state, interaction_uid, provider_id, nonce, code_verifier, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [attempt.state, attempt.interactionUid, attempt.providerId, attempt.nonce, attempt.codeVerifier, ttlSeconds]);
}

/** The attempt with this state, deleted as it is read (single use), or undefined when spent, expired or never made. */
export async function spendAttempt(db: Queryable, state: string): Promise<SignInAttempt | undefined> {
  const { rows: [row] } = await db.query<{ state: string; interaction_uid: string | null; provider_id: string; nonce: string; code_verifier: string; live: boolean }>(
    `DELETE FROM federation_sign_in_attempts WHERE state = $1
     RETURNING state, interaction_uid, provider_id, nonce, code_verifier, expires_at > now() AS live`, [state]);
  if (!row || !row.live) return undefined;
  return { state: row.state, interactionUid: row.interaction_uid, providerId: row.provider_id, nonce: row.nonce, codeVerifier: row.code_verifier };
}

export interface FederatedIdentity {
  providerId: string; providerName: string; providerDisplayName: string; providerDisabled: boolean;
  subject: string; accountId: string; email: string | null; linkedAt: Date; lastSignInAt: Date | null;
}

interface IdentityRow {
  provider_id: string; name: string; display_name: string; disabled_at: Date | null; subject: string; account_id: string;
  email: string | null; linked_at: Date; last_sign_in_at: Date | null;
}
const identity = (row: IdentityRow): FederatedIdentity => ({
  providerId: row.provider_id, providerName: row.name, providerDisplayName: row.display_name, providerDisabled: row.disabled_at !== null,
  subject: row.subject, accountId: row.account_id, email: row.email, linkedAt: new Date(row.linked_at),
  lastSignInAt: row.last_sign_in_at === null ? null : new Date(row.last_sign_in_at),
});
const SELECT_IDENTITY = `SELECT f.provider_id, p.name, p.display_name, p.disabled_at, f.subject, f.account_id, f.email, f.linked_at,
  f.last_sign_in_at FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id`;

export async function findIdentity(db: Queryable, providerId: string, subject: string): Promise<FederatedIdentity | undefined> {
  const { rows: [row] } = await db.query<IdentityRow>(`${SELECT_IDENTITY} WHERE f.provider_id = $1 AND f.subject = $2`, [providerId, subject]);
  return row && identity(row);
}

export async function listIdentitiesOfAccount(db: Queryable, accountId: string): Promise<FederatedIdentity[]> {
  const { rows } = await db.query<IdentityRow>(`${SELECT_IDENTITY} WHERE f.account_id = $1 ORDER BY f.linked_at, p.name`, [accountId]);
  return rows.map(identity);
}

export async function insertIdentity(db: Queryable, row: { providerId: string; subject: string; accountId: string; email: string | null; claims: object }): Promise<void> {
  await db.query(
    `INSERT INTO federated_identities (provider_id, subject, account_id, email, claims, last_sign_in_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, now())`,
    [row.providerId, row.subject, row.accountId, row.email, JSON.stringify(row.claims)]);
}

/** A sign-in refreshes what the provider says (email, claims); the pair (provider, subject) never changes. */
export async function recordIdentitySignIn(db: Queryable, row: { providerId: string; subject: string; email: string | null; claims: object }): Promise<void> {
  await db.query(
    `UPDATE federated_identities SET email = $3, claims = $4::jsonb, last_sign_in_at = now() WHERE provider_id = $1 AND subject = $2`,
    [row.providerId, row.subject, row.email, JSON.stringify(row.claims)]);
}

export async function deleteIdentity(db: Queryable, accountId: string, providerId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM federated_identities WHERE account_id = $1 AND provider_id = $2', [accountId, providerId]);
  return rowCount > 0;
}

/** The accounts with an identity at this provider: whose sessions and grants disabling it may end. */
export async function listAccountIdsOfProvider(db: Queryable, providerId: string): Promise<string[]> {
  const { rows } = await db.query<{ account_id: string }>('SELECT DISTINCT account_id FROM federated_identities WHERE provider_id = $1', [providerId]);
  return rows.map((row) => row.account_id);
}

/** Whether the account has a password (accounts created by a federated sign-in have none). */
export async function accountHasPassword(db: Queryable, accountId: string): Promise<boolean> {
  const { rows: [row] } = await db.query<{ has: boolean }>('SELECT password_hash IS NOT NULL AS has FROM accounts WHERE id = $1', [accountId]);
  return row?.has ?? false;
}

/** The provider an email domain (already normalised) is bound to, if any. */
export async function findProviderIdForDomain(db: Queryable, domain: string): Promise<string | undefined> {
  const { rows: [row] } = await db.query<{ provider_id: string }>('SELECT provider_id FROM identity_provider_domains WHERE domain = $1', [domain]);
  return row?.provider_id;
}

/** The provider of the account's latest sign-in, when that sign-in was federated (its audit row says so). */
export async function lastFederatedSignInProviderId(db: Queryable, accountId: string): Promise<string | undefined> {
  const { rows: [row] } = await db.query<{ provider_id: string | null }>(
    `SELECT details->>'provider_id' AS provider_id FROM audit_events WHERE account_id = $1 AND event_type = 'login.succeeded'
     ORDER BY occurred_at DESC LIMIT 1`, [accountId]);
  return row?.provider_id ?? undefined;
}
