// SQL for what the operator console does to accounts beyond creating them: the list with activity,
// disabling (which ends every session and grant of the account), and setting a new password hash.
import type { Queryable } from '../db/db.ts';

export interface AccountActivity {
  id: string;
  email: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: Date;
  lastSignInAt: Date | undefined;
  grants: number;
}

/** Every account with its last sign-in and live grants, oldest first. Never selects the password hash. */
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

/** Signs the account out of every browser: deletes its oidc-provider Sessions. Returns how many. */
export async function endSessionsOfAccount(db: Queryable, id: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1`, [id]);
  return rowCount;
}
