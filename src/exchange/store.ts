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
