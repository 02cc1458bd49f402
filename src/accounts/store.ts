// SQL for accounts: create, look up, check a password, list with activity, disable, set a password hash.
// Emails are unique and found by their normalised form (src/input/email.ts), the same one the sign-in throttle counts by.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.ts';
import { log } from '../log.ts';
import { normaliseEmail } from '../input/email.ts';
import { hashPassword, spendDecoyVerification, verifyPassword } from './password.ts';
import { newAccountSchema, type Account, type AccountActivity, type NewAccount } from './schema.ts';

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

type AccountRow = { id: string; email: string; is_admin: boolean; disabled_at: Date | null; password_hash: string | null };
const toAccount = (row: AccountRow): Account => ({
  id: row.id, email: row.email, isAdmin: row.is_admin, disabled: row.disabled_at !== null,
});

/**
 * Creates an account from checked fields and a password hash (null: an account created by a federated sign-in,
 * which has no password); a taken email (as normalised) is EmailTakenError.
 */
export async function insertAccount(
  db: Queryable, account: { email: string; passwordHash: string | null; isAdmin: boolean },
): Promise<Account & { createdAt: Date }> {
  const { rows } = await db.query<AccountRow & { created_at: Date | string }>(
    `INSERT INTO accounts (id, email, email_key, password_hash, is_admin) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (email_key) DO NOTHING
     RETURNING id, email, is_admin, disabled_at, password_hash, created_at`,
    [randomUUID(), account.email, normaliseEmail(account.email), account.passwordHash, account.isAdmin],
  );
  if (!rows[0]) throw new EmailTakenError(`an account with email ${account.email} already exists`);
  return { ...toAccount(rows[0]), createdAt: new Date(rows[0].created_at) };
}

/** Checks, hashes and creates in one call: how tests and fixtures make their accounts. */
export async function addAccount(db: Queryable, input: NewAccount): Promise<Account & { createdAt: Date }> {
  const account = newAccountSchema.parse(input);
  return insertAccount(db, { email: account.email, passwordHash: await hashPassword(account.password), isAdmin: account.isAdmin });
}

export async function findAccountById(db: Queryable, id: string): Promise<Account | undefined> {
  const { rows } = await db.query<AccountRow>(
    'SELECT id, email, is_admin, disabled_at, password_hash FROM accounts WHERE id = $1', [id]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/**
 * The active account with this email and password, or undefined. Unknown emails, wrong passwords
 * and disabled accounts are indistinguishable to the caller and take about as long.
 */
export async function authenticateAccount(db: Queryable, email: string, password: string): Promise<Account | undefined> {
  const { rows } = await db.query<AccountRow>(
    'SELECT id, email, is_admin, disabled_at, password_hash FROM accounts WHERE email_key = $1', [normaliseEmail(email)]);
  const row = rows[0];
  // No account, or one without a password (created by a federated sign-in): as long, and as unanswered.
  if (!row || row.password_hash === null) {
    await spendDecoyVerification(password);
    return undefined;
  }
  const valid = await verifyPassword(row.password_hash, password);
  return valid && row.disabled_at === null ? toAccount(row) : undefined;
}

/** The account with this email (as normalised), active or not. */
export async function findAccountByEmail(db: Queryable, email: string): Promise<Account | undefined> {
  const { rows } = await db.query<AccountRow>(
    'SELECT id, email, is_admin, disabled_at, password_hash FROM accounts WHERE email_key = $1', [normaliseEmail(email)]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/** Every account with its last sign-in and live grants, oldest first, for operators. Never selects the password hash. */
export async function listAccountActivity(db: Queryable): Promise<AccountActivity[]> {
  const { rows } = await db.query<{
    id: string; email: string; is_admin: boolean; disabled: boolean; created_at: Date | string;
    last_sign_in_at: Date | string | null; grants: number;
  }>(
    `SELECT a.id, a.email, a.is_admin, a.disabled_at IS NOT NULL AS disabled, a.created_at,
            (SELECT max(e.occurred_at) FROM audit_events e WHERE e.account_id = a.id AND e.event_type = 'login.succeeded') AS last_sign_in_at,
            (SELECT count(*)::int FROM oidc_models g WHERE g.model = 'Grant' AND g.payload->>'accountId' = a.id
               AND (g.expires_at IS NULL OR g.expires_at > now())) AS grants
     FROM accounts a ORDER BY a.created_at, a.email`);
  return rows.map((row) => ({
    id: row.id, email: row.email, isAdmin: row.is_admin, disabled: row.disabled, createdAt: new Date(row.created_at),
    lastSignInAt: row.last_sign_in_at === null ? undefined : new Date(row.last_sign_in_at), grants: row.grants,
  }));
}

/** Disables or enables; whether anything changed, or undefined when there is no such account. */
export async function setAccountDisabled(db: Queryable, id: string, disabled: boolean): Promise<boolean | undefined> {
  const { rowCount } = await db.query(
    'UPDATE accounts SET disabled_at = CASE WHEN $2 THEN now() END WHERE id = $1 AND (disabled_at IS NOT NULL) <> $2', [id, disabled]);
  if (rowCount > 0) return true;
  const exists = await db.query('SELECT 1 FROM accounts WHERE id = $1', [id]);
  return exists.rowCount === 0 ? undefined : false;
}

export async function setAccountPasswordHash(db: Queryable, id: string, passwordHash: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE accounts SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
  return rowCount > 0;
}

/**
 * Gives accounts created before migration 0018 with a non-ASCII email their email_key, computed by the
 * same function lookups use (the migration could only do ASCII in SQL). Idempotent; run at start.
 * Two old accounts whose emails now normalise alike keep the first; the other is logged for the operator.
 */
export async function backfillEmailKeys(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: string; email: string }>('SELECT id, email FROM accounts WHERE email_key IS NULL ORDER BY created_at');
  let filled = 0;
  for (const row of rows) {
    const { rowCount } = await db.query(
      `UPDATE accounts SET email_key = $2 WHERE id = $1 AND email_key IS NULL
       AND NOT EXISTS (SELECT 1 FROM accounts WHERE email_key = $2)`, [row.id, normaliseEmail(row.email)]);
    if (rowCount > 0) filled += 1;
    else log.warn('account email normalises like another account\'s; it cannot sign in until one is changed', { accountId: row.id });
  }
  return filled;
}
