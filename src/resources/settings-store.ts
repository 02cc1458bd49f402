// SQL for what an operator sets on a registered resource: the row with its scopes and client list, later
// edits of its name, scopes and token lifetime, whether it is disabled, its last metadata check and its activity.
import type { Queryable, Transaction } from '../db/db.ts';
import type { MetadataCheck } from './metadata-check.ts';
import type { AccessTokenFormat, DpopMode, ResourceScope } from './schema.ts';

export interface ResourceChange {
  name: string;
  scopes: ResourceScope[];
  accessTokenTtlSeconds: number;
  accessTokenFormat: AccessTokenFormat;
  dpop: DpopMode;
}

/**
 * Registers a resource with its scopes and client list in one transaction, so a resource meant for listed
 * clients is never, even for a moment, open to any. False: the URI is taken.
 */
export async function insertResourceRow(tx: Transaction, uri: string, change: ResourceChange, allowedClientIds: readonly string[] | null): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO resources (uri, name, access_token_ttl_seconds, access_token_format, dpop) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (uri) DO NOTHING`,
    [uri, change.name, change.accessTokenTtlSeconds, change.accessTokenFormat, change.dpop],
  );
  if (rowCount === 0) return false;
  await replaceScopes(tx, uri, change.scopes);
  await setResourceClientAccess(tx, uri, allowedClientIds);
  return true;
}

/** Replaces a resource's name, lifetime, format, DPoP setting and scopes (in the given order). False: no such resource. */
export async function updateResourceRow(tx: Transaction, uri: string, change: ResourceChange): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE resources SET name = $2, access_token_ttl_seconds = $3, access_token_format = $4, dpop = $5, updated_at = now()
     WHERE uri = $1`,
    [uri, change.name, change.accessTokenTtlSeconds, change.accessTokenFormat, change.dpop],
  );
  if (rowCount === 0) return false;
  await replaceScopes(tx, uri, change.scopes);
  return true;
}

async function replaceScopes(tx: Queryable, uri: string, scopes: readonly ResourceScope[]): Promise<void> {
  await tx.query('DELETE FROM resource_scopes WHERE resource_uri = $1', [uri]);
  for (const [position, scope] of scopes.entries()) {
    await tx.query(
      'INSERT INTO resource_scopes (resource_uri, scope, description, risk, position) VALUES ($1, $2, $3, $4, $5)',
      [uri, scope.scope, scope.description, scope.risk, position],
    );
  }
}

/** `null`: any client may use the resource; a list: only those clients. */
export async function setResourceClientAccess(tx: Queryable, uri: string, allowedClientIds: readonly string[] | null): Promise<void> {
  await tx.query('UPDATE resources SET client_access = $2, updated_at = now() WHERE uri = $1', [uri, allowedClientIds ? 'listed' : 'any']);
  await tx.query('DELETE FROM resource_allowed_clients WHERE resource_uri = $1', [uri]);
  if (allowedClientIds && allowedClientIds.length > 0) {
    await tx.query(
      `INSERT INTO resource_allowed_clients (resource_uri, client_id)
       SELECT $1, id FROM unnest($2::text[]) AS listed(id) ON CONFLICT DO NOTHING`,
      [uri, [...allowedClientIds]],
    );
  }
}

/** Disables or enables; returns whether anything changed, or undefined when there is no such resource. */
export async function setResourceDisabled(db: Queryable, uri: string, disabled: boolean): Promise<boolean | undefined> {
  const { rowCount } = await db.query(
    `UPDATE resources SET disabled_at = CASE WHEN $2 THEN now() END, updated_at = now()
     WHERE uri = $1 AND (disabled_at IS NOT NULL) <> $2`,
    [uri, disabled],
  );
  if (rowCount > 0) return true;
  const exists = await db.query('SELECT 1 FROM resources WHERE uri = $1', [uri]);
  return exists.rowCount === 0 ? undefined : false;
}

export async function saveMetadataCheck(db: Queryable, uri: string, check: MetadataCheck): Promise<void> {
  await db.query('UPDATE resources SET metadata_check = $2, metadata_checked_at = now() WHERE uri = $1', [uri, JSON.stringify(check)]);
}

export interface ResourceActivity {
  createdAt: Date;
  lastCheck: MetadataCheck | undefined;
  checkedAt: Date | undefined;
  lastUsedAt: Date | undefined;
  tokensLast30Days: number;
}

/** Per resource: when registered, its last check, when a token last named it, and how many in 30 days. */
export async function listResourceActivity(db: Queryable): Promise<Map<string, ResourceActivity>> {
  const { rows } = await db.query<{
    uri: string; created_at: Date | string; metadata_check: MetadataCheck | null; metadata_checked_at: Date | string | null;
    last_used_at: Date | string | null; tokens: number;
  }>(
    `SELECT r.uri, r.created_at, r.metadata_check, r.metadata_checked_at,
            (SELECT max(a.occurred_at) FROM audit_events a WHERE a.event_type = 'token.issued' AND a.resource = r.uri) AS last_used_at,
            (SELECT count(*)::int FROM audit_events a WHERE a.event_type = 'token.issued' AND a.resource = r.uri
               AND a.occurred_at > now() - interval '30 days') AS tokens
     FROM resources r`);
  const date = (value: Date | string | null) => (value === null ? undefined : new Date(value));
  return new Map(rows.map((row) => [row.uri, {
    createdAt: new Date(row.created_at), lastCheck: row.metadata_check ?? undefined, checkedAt: date(row.metadata_checked_at),
    lastUsedAt: date(row.last_used_at), tokensLast30Days: row.tokens,
  }]));
}
