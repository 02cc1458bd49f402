// `user add` and `user list`: operator-created accounts, the only way in until self-signup exists.
// The first admin account is created here, since nobody can log in to create it.
import { addAccount, listAccounts } from '../accounts/store.ts';
import { recordAuditEvent } from '../audit/store.ts';
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

const userList: CommandSpec = {
  name: 'user list',
  usage: '',
  summary: 'list accounts',
  options: {},
  async run({ db }) {
    const accounts = await listAccounts(db);
    return {
      json: {
        users: accounts.map((row) => ({
          id: row.id, email: row.email, is_admin: row.isAdmin, disabled: row.disabled,
          created_at: row.createdAt.toISOString(),
        })),
      },
      text: formatTable(
        ['EMAIL', 'ID', 'ADMIN', 'DISABLED', 'CREATED'],
        accounts.map((row) => [row.email, row.id, row.isAdmin ? 'yes' : 'no', row.disabled ? 'yes' : 'no',
          row.createdAt.toISOString()]),
        'No accounts yet. Create one with: user add --email E --password P [--admin]',
      ),
    };
  },
};

export const userCommands: CommandSpec[] = [userAdd, userList];
