// SQL for accounts: create, look up, and check a password. Emails are unique and found by their
// normalised form (src/input/email.ts), the same one the sign-in throttle counts by.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.ts';
import { log } from '../log.ts';
import { normaliseEmail } from '../input/email.ts';
import { hashPassword, spendDecoyVerification, verifyPassword } from './password.ts';
import { newAccountSchema, type Account, type NewAccount } from './schema.ts';

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

type AccountRow = { id: string; email: string; is_admin: boolean; disabled_at: Date | null; password_hash: string };
const toAccount = (row: AccountRow): Account => ({
  id: row.id, email: row.email, isAdmin: row.is_admin, disabled: row.disabled_at !== null,
});

export async function addAccount(db: Queryable, input: NewAccount): Promise<Account> {
  const account = newAccountSchema.parse(input);
  const passwordHash = await hashPassword(account.password);
  const { rows } = await db.query<AccountRow>(
    `INSERT INTO accounts (id, email, email_key, password_hash, is_admin) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (email_key) DO NOTHING
     RETURNING id, email, is_admin, disabled_at, password_hash`,
    [randomUUID(), account.email, normaliseEmail(account.email), passwordHash, account.isAdmin],
  );
  if (!rows[0]) throw new EmailTakenError(`an account with email ${account.email} already exists`);
  return toAccount(rows[0]);
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
  if (!row) {
    await spendDecoyVerification(password);
    return undefined;
  }
  const valid = await verifyPassword(row.password_hash, password);
  return valid && row.disabled_at === null ? toAccount(row) : undefined;
}

/** Every account, oldest first, for operators. Never selects the password hash. */
export async function listAccounts(db: Queryable): Promise<(Account & { createdAt: Date })[]> {
  const { rows } = await db.query<Omit<AccountRow, 'password_hash'> & { created_at: Date | string }>(
    'SELECT id, email, is_admin, disabled_at, created_at FROM accounts ORDER BY created_at, email');
  return rows.map((row) => ({
    id: row.id, email: row.email, isAdmin: row.is_admin, disabled: row.disabled_at !== null, createdAt: new Date(row.created_at),
  }));
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
