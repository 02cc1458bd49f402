// SQL for grants and sessions: a person's live grants (with client, resources, scope risks and usage from
// the audit trail), their sessions and security events; the one way grants end, and ending an account's sessions.
import type { Queryable } from '../db/db.ts';
import type { Risk } from '../resources/schema.ts';

export interface GrantedScope { scope: string; risk: Risk | null; description: string }
export interface GrantedResource { uri: string; name: string | null; scopes: GrantedScope[] }

export interface GrantSummary {
  grantId: string;
  clientId: string;
  /** false when the client's registration expired or was deleted (its grant may outlive it). */
  clientExists: boolean;
  clientName: string | null;
  clientSource: string | null;
  resources: GrantedResource[];
  grantedAt: Date | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  lastRefreshedAt: Date | null;
}

type GrantRow = {
  grant_id: string; client_id: string; client_exists: boolean; client_name: string | null; client_source: string | null;
  resources: GrantedResource[] | null; granted_at: Date | string | null; expires_at: Date | string | null;
  last_used_at: Date | string | null; last_refreshed_at: Date | string | null;
};

const toDate = (value: Date | string | null) => (value === null ? null : new Date(value));

// Each grant's resources expand from oidc-provider's `resources: { uri: "scope scope" }`, in the
// order the resource declares its scopes; a scope or resource since removed still shows (risk null).
const selectGrants = `
  SELECT g.id AS grant_id, g.payload->>'clientId' AS client_id,
         c.id IS NOT NULL AS client_exists, c.payload->>'client_name' AS client_name,
         c.payload->>'portcullis_source' AS client_source,
         to_timestamp((g.payload->>'iat')::double precision) AS granted_at,
         to_timestamp((g.payload->>'exp')::double precision) AS expires_at,
         (SELECT json_agg(json_build_object('uri', granted.key, 'name', r.name, 'scopes',
                   (SELECT coalesce(json_agg(json_build_object('scope', s.scope, 'risk', rs.risk,
                                      'description', coalesce(rs.description, '')) ORDER BY rs.position NULLS LAST, s.ord), '[]'::json)
                    FROM unnest(string_to_array(granted.value, ' ')) WITH ORDINALITY AS s(scope, ord)
                    LEFT JOIN resource_scopes rs ON rs.resource_uri = granted.key AND rs.scope = s.scope
                    WHERE s.scope <> '')) ORDER BY granted.key)
          FROM jsonb_each_text(coalesce(g.payload->'resources', '{}'::jsonb)) AS granted
          LEFT JOIN resources r ON r.uri = granted.key) AS resources,
         (SELECT max(a.occurred_at) FROM audit_events a
          WHERE a.details->>'grant_id' = g.id AND a.event_type = 'token.issued') AS last_used_at,
         (SELECT max(a.occurred_at) FROM audit_events a
          WHERE a.details->>'grant_id' = g.id AND a.event_type = 'token.issued'
            AND a.details->>'grant_type' = 'refresh_token') AS last_refreshed_at
  FROM oidc_models g
  LEFT JOIN oidc_models c ON c.model = 'Client' AND c.id = g.payload->>'clientId'
  WHERE g.model = 'Grant' AND g.payload->>'accountId' = $1 AND (g.expires_at IS NULL OR g.expires_at > now())
    -- An exchanged token's own Grant is filed under the person's (src/exchange/store.ts): shown with that one.
    AND g.grant_id IS NULL`;

/** The account's live grants, most recently granted first. */
export async function listGrantsForAccount(db: Queryable, accountId: string): Promise<GrantSummary[]> {
  const { rows } = await db.query<GrantRow>(`${selectGrants} ORDER BY granted_at DESC NULLS LAST, g.id`, [accountId]);
  return rows.map((row) => ({
    grantId: row.grant_id, clientId: row.client_id, clientExists: row.client_exists, clientName: row.client_name, clientSource: row.client_source,
    resources: row.resources ?? [], grantedAt: toDate(row.granted_at),
    expiresAt: toDate(row.expires_at), lastUsedAt: toDate(row.last_used_at), lastRefreshedAt: toDate(row.last_refreshed_at),
  }));
}

/** The grant if it is live and belongs to this account; undefined for anyone else's (or no) grant. */
export async function findGrantForAccount(db: Queryable, grantId: string, accountId: string) {
  const { rows } = await db.query<{ grant_id: string; client_id: string }>(
    `SELECT id AS grant_id, payload->>'clientId' AS client_id FROM oidc_models
     WHERE model = 'Grant' AND id = $1 AND payload->>'accountId' = $2 AND (expires_at IS NULL OR expires_at > now())`,
    [grantId, accountId],
  );
  return rows[0] ? { grantId: rows[0].grant_id, clientId: rows[0].client_id } : undefined;
}

/** Ids of the account's live grants to one client (a client may hold several, e.g. one per browser). */
export async function listGrantIdsForClient(db: Queryable, accountId: string, clientId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM oidc_models
     WHERE model = 'Grant' AND payload->>'accountId' = $1 AND payload->>'clientId' = $2
       AND (expires_at IS NULL OR expires_at > now())`,
    [accountId, clientId],
  );
  return rows.map((row) => row.id);
}

/** Ids of every stored oidc-provider Session signed in as this account, in any browser. */
export async function listSessionIdsForAccount(db: Queryable, accountId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1`, [accountId]);
  return rows.map((row) => row.id);
}

/** Signs the account out of every browser: deletes its oidc-provider Sessions. Returns how many. */
export async function endSessionsOfAccount(db: Queryable, accountId: string): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1`, [accountId]);
  return rowCount;
}

export interface SecurityEvent {
  occurredAt: Date;
  type: string;
  outcome: string;
  clientId: string | null;
  clientName: string | null;
  resource: string | null;
  scopes: string | null;
  details: Record<string, unknown>;
}

// Events recorded on the token endpoint (a replay detected, a client revoking its own token) carry no
// account, only the grant: they are the account's if one of its consents created that grant.
const selectSecurityEvents = `
  SELECT a.occurred_at, a.event_type, a.outcome, a.client_id, c.payload->>'client_name' AS client_name,
         a.resource, a.scopes, a.details
  FROM audit_events a
  LEFT JOIN oidc_models c ON c.model = 'Client' AND c.id = a.client_id
  WHERE a.event_type = ANY($2::text[])
    AND (a.account_id = $1
         OR (a.account_id IS NULL AND a.details->>'grant_id' IN (
               SELECT own.details->>'grant_id' FROM audit_events own
               WHERE own.account_id = $1 AND own.event_type = 'consent.granted')))
  ORDER BY a.id DESC LIMIT $3`;

/** The account's recent security events of the given types, newest first. */
export async function listSecurityEventsForAccount(
  db: Queryable, accountId: string, types: readonly string[], limit = 20,
): Promise<SecurityEvent[]> {
  const { rows } = await db.query<{
    occurred_at: Date | string; event_type: string; outcome: string; client_id: string | null; client_name: string | null;
    resource: string | null; scopes: string | null; details: Record<string, unknown> | null;
  }>(selectSecurityEvents, [accountId, [...types], limit]);
  return rows.map((row) => ({
    occurredAt: new Date(row.occurred_at), type: row.event_type, outcome: row.outcome, clientId: row.client_id,
    clientName: row.client_name, resource: row.resource, scopes: row.scopes, details: row.details ?? {},
  }));
}

/**
 * Ends every grant one account gave (or only the listed ones of them), or every grant of some clients, with
 * the codes, refresh tokens and opaque access tokens issued under them: the rows oidc-provider's Grant#destroy
 * and revokeByGrantId delete, in one statement, so no refresh can slip between the grant and its tokens.
 * The one way a grant ends, for the portal, the console, the admin API and the CLI. Returns how many ended.
 */
export async function endGrants(
  db: Queryable, owner: { accountId: string; grantIds?: readonly string[] } | { clientIds: readonly string[] },
): Promise<number> {
  const [field, values] = 'accountId' in owner ? ['accountId', [owner.accountId]] : ['clientId', [...owner.clientIds]];
  const grantIds = 'accountId' in owner && owner.grantIds ? [...owner.grantIds] : null;
  if (values.length === 0 || grantIds?.length === 0) return 0;
  const { rows } = await db.query<{ grants: number }>(
    `WITH grants AS (
       SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'${field}' = ANY($1::text[])
         AND ($2::text[] IS NULL OR id = ANY($2::text[]))
     ), gone AS (
       DELETE FROM oidc_models
       WHERE (model = 'Grant' AND id IN (SELECT id FROM grants)) OR grant_id = ANY(ARRAY(SELECT id FROM grants))
       RETURNING model
     )
     SELECT count(*) FILTER (WHERE model = 'Grant')::int AS grants FROM gone`,
    [values, grantIds],
  );
  return rows[0]?.grants ?? 0;
}
