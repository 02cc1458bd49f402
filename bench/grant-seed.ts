// Many live grants at once for the memory figure: copies of one real grant (its Grant row and its
// current refresh token, as a code exchange writes them through the adapter), each under new ids, in
// two INSERT … SELECT statements. Every copy's refresh token is a working credential: its value is
// derived from a seed, so the orchestrator can present random ones without reading them back.
import { createHash } from 'node:crypto';
import type { Queryable } from '../src/db/db.ts';

/** The refresh token (and, with the `g` prefix, the grant id) of copy `index`: base64url of SHA-256, 43 characters like oidc-provider's. */
export const seededId = (seed: string, index: number, prefix = '') =>
  createHash('sha256').update(`${prefix}${seed}${index}`).digest('base64url');
const idSql = (prefix: string) => `translate(rtrim(encode(sha256(convert_to('${prefix}' || $1 || i, 'UTF8')), 'base64'), '='), '+/', '-_')`;

// The newest refresh token nobody has used: the head of a chain, the last thing a real grant wrote.
const SOURCE = `SELECT t.id, t.grant_id FROM oidc_models t
  WHERE t.model = 'RefreshToken' AND t.consumed_at IS NULL AND t.grant_id IS NOT NULL
    AND EXISTS (SELECT 1 FROM oidc_models g WHERE g.model = 'Grant' AND g.id = t.grant_id)
  ORDER BY t.payload->>'iat' DESC LIMIT 1`;

const COPY_GRANTS = `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
  SELECT 'Grant', ${idSql('g')}, jsonb_set(g.payload, '{jti}', to_jsonb(${idSql('g')})), g.grant_id, g.uid, g.user_code, g.expires_at
  FROM oidc_models g, generate_series($3::int, $4::int) AS i WHERE g.model = 'Grant' AND g.id = $2`;

const COPY_TOKENS = `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
  SELECT 'RefreshToken', ${idSql('')},
    jsonb_set(jsonb_set(t.payload, '{jti}', to_jsonb(${idSql('')})), '{grantId}', to_jsonb(${idSql('g')})),
    ${idSql('g')}, t.uid, t.user_code, t.expires_at
  FROM oidc_models t, generate_series($3::int, $4::int) AS i WHERE t.model = 'RefreshToken' AND t.id = $2`;

/** Adds copies `from`…`to` (inclusive) of the newest live grant; returns how many rows were written. */
export async function seedGrants(db: Queryable, seed: string, from: number, to: number): Promise<number> {
  const { rows } = await db.query<{ id: string; grant_id: string }>(SOURCE);
  const source = rows[0];
  if (!source) throw new Error('no live grant to copy: run a flow first');
  const grants = await db.query(COPY_GRANTS, [seed, source.grant_id, from, to]);
  const tokens = await db.query(COPY_TOKENS, [seed, source.id, from, to]);
  return (grants.rowCount ?? 0) + (tokens.rowCount ?? 0);
}
