// `user add` and `user list`: operator-created accounts, the only way in until self-signup exists.
// The first admin account is created here, since nobody can log in to create it.
import { accountIdentityJson, accountJson, createAccount, listAccounts } from '../accounts/service.ts';
import { CLI_OPERATOR } from '../audit/operator.ts';
import { formatTable, type CommandSpec } from './command.ts';

const userAdd: CommandSpec = {
  name: 'user add',
  usage: '--email E --password P [--admin]',
  summary: 'create an account (the password is hashed with Argon2id)',
  options: { email: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } },
  async run({ db }, args) {
    const account = await createAccount(db, {
      email: args.required('email'),
      password: args.required('password'),
      isAdmin: args.flag('admin'),
    }, CLI_OPERATOR);
    return {
      json: accountIdentityJson(account),
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
      json: { users: accounts.map(accountJson) },
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
