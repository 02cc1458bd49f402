// `user add` and `user list`: operator-created accounts, the only way in until self-signup exists.
// The first admin account is created here, since nobody can log in to create it.
import { addAccount } from '../accounts/store.ts';
import { recordAuditEvent } from '../audit/store.ts';
import type { Queryable } from '../db/db.ts';
import { formatTable, type CommandSpec } from './command.ts';

const userAdd: CommandSpec = {
  name: 'user add',
  usage: '--email E --password P [--admin]',
  summary: 'create an account (the password is hashed with Argon2id)',
  options: { email: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } },
  async run({ db }, args) {
    const account = await addAccount(db, {
      email: args.required('email'),
      password: args.required('password'),
      isAdmin: args.flag('admin'),
    });
    await recordAuditEvent(db, { type: 'account.created', accountId: account.id, details: { actor: 'cli' } });
    return {
      json: { id: account.id, email: account.email, is_admin: account.isAdmin },
      text: `Created ${account.isAdmin ? 'admin ' : ''}account ${account.email} (id ${account.id})`,
    };
  },
};

type AccountListRow = { id: string; email: string; is_admin: boolean; disabled_at: Date | null; created_at: Date };

// accounts/store.ts has no listing yet; this read-only query belongs there as listAccounts() and
// moves when that store gains one. It selects no password hash.
async function listAccountsForCli(db: Queryable): Promise<AccountListRow[]> {
  const { rows } = await db.query<AccountListRow>(
    'SELECT id, email, is_admin, disabled_at, created_at FROM accounts ORDER BY created_at, email');
  return rows;
}

const userList: CommandSpec = {
  name: 'user list',
  usage: '',
  summary: 'list accounts',
  options: {},
  async run({ db }) {
    const accounts = await listAccountsForCli(db);
    return {
      json: {
        users: accounts.map((row) => ({
          id: row.id, email: row.email, is_admin: row.is_admin, disabled: row.disabled_at !== null,
          created_at: row.created_at.toISOString(),
        })),
      },
      text: formatTable(
        ['EMAIL', 'ID', 'ADMIN', 'DISABLED', 'CREATED'],
        accounts.map((row) => [row.email, row.id, row.is_admin ? 'yes' : 'no', row.disabled_at ? 'yes' : 'no',
          row.created_at.toISOString()]),
        'No accounts yet. Create one with: user add --email E --password P [--admin]',
      ),
    };
  },
};

export const userCommands: CommandSpec[] = [userAdd, userList];
