// The accounts' one service for operators, under the CLI, the console and the admin API: checks input (zod),
// runs each change in one transaction with its audit event (the operator its actor), codes its refusals, and
// owns the one wire form of an account. Signing in is the other half of the domain: sign-in.ts.
import { z } from 'zod';
import type { Db, Queryable } from '../db/db.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { endGrants, endSessionsOfAccount } from '../grants/store.ts';
import { hashPassword } from './password.ts';
import { newAccountSchema, type Account, type AccountActivity } from './schema.ts';
import {
  EmailTakenError, findAccountById, insertAccount, listAccountActivity, setAccountDisabled, setAccountPasswordHash,
} from './store.ts';

export type { Account, AccountActivity, Operator };

const createAccountInput = newAccountSchema;
const setAccountEnabledInput = z.strictObject({ id: z.string(), enabled: z.boolean() });
const resetPasswordInput = z.strictObject({ id: z.string(), password: z.string() });
/** The password rule alone: a reset is refused with the same words as a new account's password. */
const passwordRule = newAccountSchema.shape.password;

async function requireAccount(db: Queryable, id: string): Promise<Account> {
  const account = await findAccountById(db, id);
  if (!account) throw new AppError('user_not_found', `no account with id ${JSON.stringify(id.slice(0, 100))}`);
  return account;
}

/** Every account with its last sign-in and live grants, oldest first. */
export const listAccounts = (db: Queryable): Promise<AccountActivity[]> => listAccountActivity(db);

/** Creates an account; recorded as `account.created` with `by` as its operator. A taken email is `email_taken`. */
export async function createAccount(db: Db, input: unknown, by: Operator): Promise<AccountActivity> {
  const fields = createAccountInput.parse(input);
  // Hashed before the transaction: ~12 ms of Argon2id need not hold a connection.
  const passwordHash = await hashPassword(fields.password);
  try {
    return await db.transaction(async (tx) => {
      const account = await insertAccount(tx, { email: fields.email, passwordHash, isAdmin: fields.isAdmin });
      // An admin's event says whether they handed out admin rights; the CLI's has said only who acted since
      // it was first written (its operator holds the database itself), and readers of the trail rely on that.
      const details = by.via === undefined ? {} : { is_admin: account.isAdmin };
      await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'account.created', accountId: account.id, details }));
      return { ...account, lastSignInAt: undefined, grants: 0 };
    });
  } catch (error) {
    if (error instanceof EmailTakenError) throw new AppError('email_taken', error.message);
    throw error;
  }
}

export interface EnabledOutcome { id: string; email: string; disabled: boolean; changed: boolean; sessionsEnded: number; grantsRevoked: number }

/**
 * Disabling signs the person out everywhere and ends every grant they gave, with its audit event, in one
 * transaction: their applications' refresh tokens stop working at once (access tokens already issued live
 * until expiry). An admin cannot disable their own account: the console would lock them out mid-action.
 */
export async function setAccountEnabled(db: Db, input: unknown, by: Operator): Promise<EnabledOutcome> {
  const { id, enabled } = setAccountEnabledInput.parse(input);
  const account = await requireAccount(db, id);
  if (!enabled && by.accountId === account.id) {
    throw new AppError('cannot_disable_self', 'you cannot disable your own account; another admin can');
  }
  const outcome = await db.transaction(async (tx) => {
    const changed = (await setAccountDisabled(tx, account.id, !enabled)) === true;
    if (!changed) return { changed, sessionsEnded: 0, grantsRevoked: 0 };
    const ended = enabled ? { sessionsEnded: 0, grantsRevoked: 0 }
      : { sessionsEnded: await endSessionsOfAccount(tx, account.id), grantsRevoked: await endGrants(tx, { accountId: account.id }) };
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: enabled ? 'account.enabled' : 'account.disabled', accountId: account.id,
      details: enabled ? {} : { sessions_ended: ended.sessionsEnded, grants_revoked: ended.grantsRevoked },
    }));
    return { changed, ...ended };
  });
  return { id: account.id, email: account.email, disabled: !enabled, ...outcome };
}

/**
 * Sets a new password and signs the person out everywhere (whoever knew the old one is out too). The account
 * is looked up first: an unknown id is `user_not_found` whatever the password. Never records the password.
 */
export async function resetAccountPassword(db: Db, input: unknown, by: Operator): Promise<{ id: string; email: string; sessionsEnded: number }> {
  const { id, password } = resetPasswordInput.parse(input);
  const account = await requireAccount(db, id);
  const hash = await hashPassword(passwordRule.parse(password));
  const sessionsEnded = await db.transaction(async (tx) => {
    await setAccountPasswordHash(tx, account.id, hash);
    const ended = await endSessionsOfAccount(tx, account.id);
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'account.password_reset', accountId: account.id, details: { sessions_ended: ended } }));
    return ended;
  });
  return { id: account.id, email: account.email, sessionsEnded };
}

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

/** Who an account is, the head of its wire form: what `user add --json` prints. */
export const accountIdentityJson = (account: Account) => ({ id: account.id, email: account.email, is_admin: account.isAdmin });

/**
 * An account's one wire form, for `user list --json` and /admin/api/users alike: snake_case, ISO dates, null for
 * none; never a password hash. `disabled` beside `status`: scripts of `user list --json` read it.
 */
export const accountJson = (account: AccountActivity) => ({
  ...accountIdentityJson(account),
  status: account.disabled ? 'disabled' : 'active',
  disabled: account.disabled,
  created_at: iso(account.createdAt),
  last_sign_in_at: iso(account.lastSignInAt),
  grants: account.grants,
});
export type AccountJson = ReturnType<typeof accountJson>;
