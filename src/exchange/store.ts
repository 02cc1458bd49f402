// SQL for the token-exchange chains an operator allowed (migration 0022): resource A may exchange a person's
// token for one to resource B with at most these scopes (RFC 8693). Nothing here knows about HTTP or oidc-provider.
import type { Queryable } from '../db/db.ts';

/** An allowed chain: tokens for `fromUri` may be exchanged for tokens to `toUri` carrying at most `scopes`. */
export interface ExchangeChain { fromUri: string; toUri: string; scopes: string[]; createdAt: Date }

type ChainRow = { from_uri: string; to_uri: string; scopes: string[]; created_at: Date };
const toChain = (row: ChainRow): ExchangeChain => ({ fromUri: row.from_uri, toUri: row.to_uri, scopes: row.scopes, createdAt: row.created_at });

/** Allows A → B with these scopes, replacing the scopes of an existing chain; returns what was there before. */
export async function upsertExchangeChain(tx: Queryable, fromUri: string, toUri: string, scopes: readonly string[]): Promise<void> {
  await tx.query(
    `INSERT INTO exchange_chains (from_uri, to_uri, scopes) VALUES ($1, $2, $3)
     ON CONFLICT (from_uri, to_uri) DO UPDATE SET scopes = EXCLUDED.scopes`,
    [fromUri, toUri, [...scopes]],
  );
}

/** Removes the chain A → B; false when there was none. */
export async function deleteExchangeChain(tx: Queryable, fromUri: string, toUri: string): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM exchange_chains WHERE from_uri = $1 AND to_uri = $2', [fromUri, toUri]);
  return rowCount > 0;
}

export async function findExchangeChain(db: Queryable, fromUri: string, toUri: string): Promise<ExchangeChain | undefined> {
  const { rows } = await db.query<ChainRow>('SELECT from_uri, to_uri, scopes, created_at FROM exchange_chains WHERE from_uri = $1 AND to_uri = $2', [fromUri, toUri]);
  return rows[0] ? toChain(rows[0]) : undefined;
}

/** Every chain, or those starting at one resource (what the consent page lists for it), ordered. */
export async function listExchangeChains(db: Queryable, fromUri?: string): Promise<ExchangeChain[]> {
  const { rows } = fromUri === undefined
    ? await db.query<ChainRow>('SELECT from_uri, to_uri, scopes, created_at FROM exchange_chains ORDER BY from_uri, to_uri')
    : await db.query<ChainRow>('SELECT from_uri, to_uri, scopes, created_at FROM exchange_chains WHERE from_uri = $1 ORDER BY to_uri', [fromUri]);
  return rows.map(toChain);
}

/** A downstream service the person withdrew from one grant (migration 0025). */
export interface ExchangeWithdrawal { grantId: string; fromUri: string; toUri: string; withdrawnAt: Date }

/** Records that A may no longer exchange this grant's tokens for B; false when it already was. */
export async function insertExchangeWithdrawal(tx: Queryable, w: { grantId: string; fromUri: string; toUri: string; accountId: string }): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO exchange_withdrawals (grant_id, from_uri, to_uri, account_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`, [w.grantId, w.fromUri, w.toUri, w.accountId]);
  return rowCount > 0;
}

/** The withdrawals of these grants, for the portal and the exchange's check. */
export async function listExchangeWithdrawals(db: Queryable, grantIds: readonly string[]): Promise<ExchangeWithdrawal[]> {
  if (grantIds.length === 0) return [];
  const { rows } = await db.query<{ grant_id: string; from_uri: string; to_uri: string; withdrawn_at: Date }>(
    'SELECT grant_id, from_uri, to_uri, withdrawn_at FROM exchange_withdrawals WHERE grant_id = ANY($1::text[])', [[...grantIds]]);
  return rows.map((r) => ({ grantId: r.grant_id, fromUri: r.from_uri, toUri: r.to_uri, withdrawnAt: new Date(r.withdrawn_at) }));
}

/**
 * Files an exchanged token's own Grant under the person's grant (oidc_models.grant_id), so that ending the
 * person's grant (grants/store.ts endGrants: the Grant and every row with its grant_id) ends this one too,
 * and with it every token exchanged under it (oidc-provider refuses a token whose Grant is gone).
 */
export async function fileGrantUnder(tx: Queryable, childGrantId: string, parentGrantId: string): Promise<void> {
  // A token exchanged again (B → C) files under the person's own grant, the root of the chain.
  await tx.query(
    `UPDATE oidc_models SET grant_id = coalesce((SELECT p.grant_id FROM oidc_models p WHERE p.model = 'Grant' AND p.id = $2), $2)
     WHERE model = 'Grant' AND id = $1`, [childGrantId, parentGrantId]);
}

/** Ends the exchanged-token grants filed under a person's grant for one chain's target (a withdrawal). */
export async function endExchangedGrants(tx: Queryable, parentGrantId: string, clientIds: readonly string[], toUri: string): Promise<number> {
  const { rowCount } = await tx.query(
    `DELETE FROM oidc_models WHERE model = 'Grant' AND grant_id = $1 AND payload->>'clientId' = ANY($2::text[])
       AND payload->'resources' ? $3`, [parentGrantId, [...clientIds], toUri]);
  return rowCount;
}

/** The person's own grants behind these (an exchanged token's Grant is filed under one): what the portal lists. */
export async function rootGrantIds(db: Queryable, grantIds: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT coalesce(grant_id, id) AS id FROM oidc_models WHERE model = 'Grant' AND id = ANY($1::text[])`, [[...grantIds]]);
  return rows.map((r) => r.id);
}

/** A person's live grants to one client that cover `resourceUri` (how a JWT subject token finds its grant). */
export async function listLiveGrantIds(db: Queryable, accountId: string, clientId: string, resourceUri: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM oidc_models WHERE model = 'Grant'
       AND payload->>'accountId' = $1 AND payload->>'clientId' = $2 AND payload->'resources' ? $3
       AND (expires_at IS NULL OR expires_at > now()) ORDER BY id`, [accountId, clientId, resourceUri]);
  return rows.map((r) => r.id);
}

/** The introspection clients bound to a resource: the MCP server's identities (src/clients/store.ts). */
export async function listClientIdsBoundTo(db: Queryable, resourceUri: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM oidc_models WHERE model = 'Client' AND payload->>'portcullis_introspects' = $1`, [resourceUri]);
  return rows.map((r) => r.id);
}

/** The resources one grant covers (oidc-provider's `resources: { uri: "scopes" }`). */
export async function listGrantResourceUris(db: Queryable, grantId: string): Promise<Array<{ uri: string }>> {
  const { rows } = await db.query<{ uri: string }>(
    `SELECT jsonb_object_keys(coalesce(payload->'resources', '{}'::jsonb)) AS uri FROM oidc_models WHERE model = 'Grant' AND id = $1`, [grantId]);
  return rows;
}
