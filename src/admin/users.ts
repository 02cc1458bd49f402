// Admin operations on accounts, shared by the console and the JSON API: list, create, disable (which
// ends the person's sessions and grants at once), enable, and reset a password. Each one audited.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { hashPassword } from '../accounts/password.ts';
import { newAccountSchema } from '../accounts/schema.ts';
import { addAccount, EmailTakenError, findAccountById } from '../accounts/store.ts';
import { AppError } from '../errors.ts';
import { adminAuditEvent, type AdminActor } from './actor.ts';
import { endGrants } from '../grants/store.ts';
import { endSessionsOfAccount, listAccountActivity, setAccountDisabled, setAccountPasswordHash } from './account-store.ts';

export { listAccountActivity as listAdminUsers };
export const newUserSchema = newAccountSchema;
export const passwordSchema = newAccountSchema.shape.password;

async function requireAccount(db: Db, id: string) {
  const account = await findAccountById(db, id);
  if (!account) throw new AppError('user_not_found', `no account with id ${JSON.stringify(id.slice(0, 100))}`);
  return account;
}

export async function createUser(db: Db, input: z.input<typeof newUserSchema>, by: AdminActor) {
  try {
    const account = await addAccount(db, input);
    await recordAuditEvent(db, adminAuditEvent(by, { type: 'account.created', accountId: account.id, details: { is_admin: account.isAdmin } }));
    return account;
  } catch (error) {
    if (error instanceof EmailTakenError) throw new AppError('email_taken', error.message);
    throw error;
  }
}

/**
 * Disabling signs the person out everywhere and ends every grant they gave, in one transaction: their
 * applications' refresh tokens stop working at once (access tokens already issued live until expiry).
 * An admin cannot disable their own account: the console would lock them out mid-action.
 */
export async function setUserEnabled(db: Db, id: string, enabled: boolean, by: AdminActor) {
  const account = await requireAccount(db, id);
  if (!enabled && by.accountId === account.id) {
    throw new AppError('cannot_disable_self', 'you cannot disable your own account; another admin can');
  }
  const outcome = await db.transaction(async (tx) => {
    const changed = (await setAccountDisabled(tx, account.id, !enabled)) === true;
    if (!changed || enabled) return { changed, sessionsEnded: 0, grantsRevoked: 0 };
    return { changed, sessionsEnded: await endSessionsOfAccount(tx, account.id), grantsRevoked: await endGrants(tx, { accountId: account.id }) };
  });
  if (outcome.changed) {
    await recordAuditEvent(db, adminAuditEvent(by, {
      type: enabled ? 'account.enabled' : 'account.disabled', accountId: account.id,
      details: enabled ? {} : { sessions_ended: outcome.sessionsEnded, grants_revoked: outcome.grantsRevoked },
    }));
  }
  return { id: account.id, email: account.email, disabled: !enabled, ...outcome };
}

/** Sets a new password and signs the person out everywhere (whoever knew the old one is out too). */
export async function resetUserPassword(db: Db, id: string, password: string, by: AdminActor) {
  const account = await requireAccount(db, id);
  const hash = await hashPassword(passwordSchema.parse(password));
  const sessionsEnded = await db.transaction(async (tx) => {
    await setAccountPasswordHash(tx, account.id, hash);
    return endSessionsOfAccount(tx, account.id);
  });
  await recordAuditEvent(db, adminAuditEvent(by, { type: 'account.password_reset', accountId: account.id, details: { sessions_ended: sessionsEnded } }));
  return { id: account.id, email: account.email, sessionsEnded };
}
