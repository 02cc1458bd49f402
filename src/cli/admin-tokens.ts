// `admin-token create|list|revoke`: bearer tokens for the admin JSON API (/admin/api). A token is
// printed once at creation; only its SHA-256 digest is stored. The service (src/admin-tokens/service.ts) audits.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { adminTokenJson, createAdminToken, listAdminTokens, revokeAdminToken } from '../admin-tokens/service.ts';
import { formatTable, type CommandSpec } from './command.ts';

const adminTokenCreate: CommandSpec = {
  name: 'admin-token create',
  usage: '--name N',
  summary: 'create an admin API token (printed once; only its SHA-256 digest is stored)',
  options: { name: { type: 'string' } },
  async run({ db }, args) {
    const { token, record } = await createAdminToken(db, args.required('name'), CLI_OPERATOR);
    return {
      json: { id: record.id, name: record.name, token, created_at: record.createdAt.toISOString() },
      text: [
        `Created admin API token ${record.id} (${record.name}):`,
        '',
        `  ${token}`,
        '',
        'It is shown only now: store it in a secret manager. Send it as "Authorization: Bearer <token>" to /admin/api.',
      ].join('\n'),
    };
  },
};

const adminTokenList: CommandSpec = {
  name: 'admin-token list',
  usage: '',
  summary: 'list admin API tokens (never the tokens themselves)',
  options: {},
  async run({ db }) {
    const tokens = await listAdminTokens(db);
    return {
      json: { tokens: tokens.map(adminTokenJson) },
      text: formatTable(
        ['ID', 'NAME', 'STATUS', 'CREATED', 'LAST USED'],
        tokens.map((t) => [t.id, t.name, t.revokedAt ? 'revoked' : 'active', t.createdAt.toISOString(), t.lastUsedAt?.toISOString() ?? 'never']),
        'No admin API tokens. Create one with: admin-token create --name N',
      ),
    };
  },
};

const adminTokenRevoke: CommandSpec = {
  name: 'admin-token revoke',
  usage: '--id ID',
  summary: 'revoke an admin API token at once',
  options: { id: { type: 'string' } },
  async run({ db }, args) {
    const id = args.required('id');
    const { changed } = await revokeAdminToken(db, id, CLI_OPERATOR);
    return {
      json: { id, status: 'revoked', changed },
      text: changed ? `Revoked admin API token ${id}.` : `Admin API token ${id} was already revoked.`,
    };
  },
};

export const adminTokenCommands: CommandSpec[] = [adminTokenCreate, adminTokenList, adminTokenRevoke];
