// Admin API tokens: created and revoked with the CLI, presented as `Authorization: Bearer` at
// /admin/api. Only a SHA-256 digest is stored (256 random bits need no slow hash), like client secrets.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.ts';
import { digestClientSecret } from '../clients/secret.ts';

// A recognisable prefix lets secret scanners (and people) tell what a leaked string is.
const TOKEN_PREFIX = 'pcadm_';
const TOKEN_PATTERN = /^pcadm_[A-Za-z0-9_-]{43}$/;

export interface AdminApiToken {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | undefined;
  revokedAt: Date | undefined;
}

type TokenRow = { id: string; name: string; created_at: Date | string; last_used_at: Date | string | null; revoked_at: Date | string | null };
const toToken = (row: TokenRow): AdminApiToken => ({
  id: row.id, name: row.name, createdAt: new Date(row.created_at),
  lastUsedAt: row.last_used_at === null ? undefined : new Date(row.last_used_at),
  revokedAt: row.revoked_at === null ? undefined : new Date(row.revoked_at),
});

export class AdminTokenNotFoundError extends Error {
  override name = 'AdminTokenNotFoundError';
}

/** Creates a token; the returned `token` is the only time it exists outside the caller's hands. */
export async function createAdminApiToken(db: Queryable, name: string): Promise<{ token: string; record: AdminApiToken }> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<TokenRow>(
    `INSERT INTO admin_api_tokens (id, name, token_digest) VALUES ($1, $2, $3)
     RETURNING id, name, created_at, last_used_at, revoked_at`,
    [randomUUID(), name, digestClientSecret(token)],
  );
  return { token, record: toToken(rows[0]!) };
}

export async function listAdminApiTokens(db: Queryable): Promise<AdminApiToken[]> {
  const { rows } = await db.query<TokenRow>(
    'SELECT id, name, created_at, last_used_at, revoked_at FROM admin_api_tokens ORDER BY created_at, id');
  return rows.map(toToken);
}

/** Revokes a token at once; revoking a revoked token changes nothing. Unknown ids throw. */
export async function revokeAdminApiToken(db: Queryable, id: string): Promise<{ changed: boolean }> {
  const { rowCount } = await db.query('UPDATE admin_api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  if (rowCount > 0) return { changed: true };
  const exists = await db.query('SELECT 1 FROM admin_api_tokens WHERE id = $1', [id]);
  if (exists.rowCount === 0) throw new AdminTokenNotFoundError(`no admin API token with id ${id}`);
  return { changed: false };
}

/**
 * The live token a presented bearer value is, or undefined. The lookup is by digest: the database
 * compares hashes, so timing reveals nothing about the token. Marks it used (to the minute).
 */
export async function verifyAdminApiToken(db: Queryable, presented: string): Promise<AdminApiToken | undefined> {
  if (!TOKEN_PATTERN.test(presented)) return undefined;
  const { rows } = await db.query<TokenRow>(
    `UPDATE admin_api_tokens
     SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < now() - interval '1 minute' THEN now() ELSE last_used_at END
     WHERE token_digest = $1 AND revoked_at IS NULL
     RETURNING id, name, created_at, last_used_at, revoked_at`,
    [digestClientSecret(presented)],
  );
  return rows[0] ? toToken(rows[0]) : undefined;
}
