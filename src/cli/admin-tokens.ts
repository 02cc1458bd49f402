// `admin-token create|list|revoke`: bearer tokens for the admin JSON API (/admin/api). A token is
// printed once at creation; only its SHA-256 digest is stored. Each change is in the audit trail.
import { z } from 'zod';
import { recordAuditEvent } from '../audit/store.ts';
import { createAdminApiToken, listAdminApiTokens, revokeAdminApiToken } from '../admin-tokens/store.ts';
import { formatTable, type CommandSpec } from './command.ts';

const tokenName = z.string().trim().min(1, 'give the token a name that says who or what uses it').max(100);
const iso = (date: Date | undefined) => date?.toISOString() ?? null;

const adminTokenCreate: CommandSpec = {
  name: 'admin-token create',
  usage: '--name N',
  summary: 'create an admin API token (printed once; only its SHA-256 digest is stored)',
  options: { name: { type: 'string' } },
  async run({ db }, args) {
    const { token, record } = await createAdminApiToken(db, tokenName.parse(args.required('name')));
    await recordAuditEvent(db, {
      type: 'admin_token.created', actor: { type: 'operator', id: 'cli' }, details: { actor: 'cli', token_id: record.id, name: record.name },
    });
    return {
      json: { id: record.id, name: record.name, token, created_at: iso(record.createdAt) },
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
    const tokens = await listAdminApiTokens(db);
    return {
      json: {
        tokens: tokens.map((t) => ({
          id: t.id, name: t.name, status: t.revokedAt ? 'revoked' : 'active', created_at: iso(t.createdAt),
          last_used_at: iso(t.lastUsedAt), revoked_at: iso(t.revokedAt),
        })),
      },
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
    const { changed } = await revokeAdminApiToken(db, id);
    if (changed) {
      await recordAuditEvent(db, { type: 'admin_token.revoked', actor: { type: 'operator', id: 'cli' }, details: { actor: 'cli', token_id: id } });
    }
    return {
      json: { id, status: 'revoked', changed },
      text: changed ? `Revoked admin API token ${id}.` : `Admin API token ${id} was already revoked.`,
    };
  },
};

export const adminTokenCommands: CommandSpec[] = [adminTokenCreate, adminTokenList, adminTokenRevoke];
