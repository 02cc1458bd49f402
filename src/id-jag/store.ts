// SQL for the ID-JAG trust list (migration 0023): trusted issuers with their key source, and the
// single-use record of assertion `jti`s shared by all server processes.
import type { Queryable } from '../db/db.ts';

export interface IdJagIssuer {
  issuer: string;
  jwksUri: string | undefined;
  jwks: { keys: Record<string, unknown>[] } | undefined;
  /** A federated identity provider marked `--id-jag`: its keys come from its OpenID discovery document. */
  viaIdentityProvider: boolean;
  createdAt: Date;
}

type IssuerRow = { issuer: string; jwks_uri: string | null; jwks: unknown; created_at: Date | string; via_idp?: boolean };
const toIssuer = (row: IssuerRow): IdJagIssuer => ({
  issuer: row.issuer,
  jwksUri: row.jwks_uri ?? undefined,
  jwks: row.jwks === null ? undefined : (typeof row.jwks === 'string' ? JSON.parse(row.jwks) : row.jwks) as IdJagIssuer['jwks'],
  viaIdentityProvider: row.via_idp === true,
  createdAt: new Date(row.created_at),
});

export class IdJagIssuerNotFoundError extends Error {
  override name = 'IdJagIssuerNotFoundError';
}

/** Adds or replaces an issuer's key source; `created` false when the issuer was trusted already. */
export async function upsertIdJagIssuer(db: Queryable, issuer: string, jwksUri: string | undefined, jwks: unknown): Promise<{ record: IdJagIssuer; created: boolean }> {
  const { rows } = await db.query<IssuerRow & { inserted: boolean }>(
    `INSERT INTO id_jag_issuers (issuer, jwks_uri, jwks) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (issuer) DO UPDATE SET jwks_uri = EXCLUDED.jwks_uri, jwks = EXCLUDED.jwks
     RETURNING issuer, jwks_uri, jwks, created_at, (xmax = 0) AS inserted`,
    [issuer, jwksUri ?? null, jwks === undefined ? null : JSON.stringify(jwks)],
  );
  return { record: toIssuer(rows[0]!), created: rows[0]!.inserted };
}

export async function listIdJagIssuers(db: Queryable): Promise<IdJagIssuer[]> {
  const { rows } = await db.query<IssuerRow>('SELECT issuer, jwks_uri, jwks, created_at FROM id_jag_issuers ORDER BY issuer');
  return rows.map(toIssuer);
}

/**
 * The one trust lookup, over both sources of trusted issuers: this table (`idjag-issuer add`) and the
 * enabled federated identity providers marked `--id-jag` (migration 0024). The table wins when both name it.
 */
export async function findIdJagIssuer(db: Queryable, issuer: string): Promise<IdJagIssuer | undefined> {
  const { rows } = await db.query<IssuerRow>(
    `SELECT issuer, jwks_uri, jwks, created_at, false AS via_idp FROM id_jag_issuers WHERE issuer = $1
     UNION ALL
     SELECT issuer, NULL, NULL, created_at, true FROM identity_providers
      WHERE issuer = $1 AND id_jag AND disabled_at IS NULL
     ORDER BY via_idp LIMIT 1`, [issuer]);
  return rows[0] ? toIssuer(rows[0]) : undefined;
}

export async function deleteIdJagIssuer(db: Queryable, issuer: string): Promise<void> {
  const { rowCount } = await db.query('DELETE FROM id_jag_issuers WHERE issuer = $1', [issuer]);
  if (rowCount === 0) throw new IdJagIssuerNotFoundError(`no trusted ID-JAG issuer ${issuer}`);
}

/**
 * Records a `jti` as used: true the first time, false on a replay. One INSERT … ON CONFLICT DO NOTHING
 * is atomic across processes, so two concurrent exchanges of one assertion cannot both succeed.
 */
export async function claimIdJagJti(db: Queryable, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO id_jag_used_jtis (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [issuer, jti, expiresAt],
  );
  return rowCount === 1;
}

/** Drops replay records whose assertions have expired (they could no longer pass the `exp` check). */
export async function purgeExpiredIdJagJtis(db: Queryable, now = new Date()): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM id_jag_used_jtis WHERE expires_at < $1', [now]);
  return rowCount;
}

/** The local account an (issuer, subject) pair is linked to (the extension: `iss`+`sub` is unique). */
/** Also a federated identity (provider, subject) at an enabled `--id-jag` provider with that issuer. */
export async function findLinkedAccount(db: Queryable, issuer: string, subject: string): Promise<string | undefined> {
  const { rows } = await db.query<{ account_id: string }>(
    `SELECT account_id, 0 AS source FROM id_jag_subjects WHERE issuer = $1 AND subject = $2
     UNION ALL
     SELECT f.account_id, 1 FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id
      WHERE p.issuer = $1 AND f.subject = $2 AND p.id_jag AND p.disabled_at IS NULL
     ORDER BY source LIMIT 1`, [issuer, subject]);
  return rows[0]?.account_id;
}

export async function linkSubject(db: Queryable, issuer: string, subject: string, accountId: string): Promise<void> {
  await db.query(
    `INSERT INTO id_jag_subjects (issuer, subject, account_id) VALUES ($1, $2, $3)
     ON CONFLICT (issuer, subject) DO UPDATE SET account_id = EXCLUDED.account_id`, [issuer, subject, accountId]);
}

/**
 * Lets a confidential client use the jwt-bearer grant (added to its grant_types): explicit, so no client
 * gains a way to tokens the operator did not choose. False when no such confidential client exists.
 */
export async function addJwtBearerGrantType(db: Queryable, clientId: string, grantType: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE oidc_models SET payload = jsonb_set(payload, '{grant_types}', (payload->'grant_types') || to_jsonb($2::text))
     WHERE model = 'Client' AND id = $1 AND payload->>'token_endpoint_auth_method' <> 'none'
       AND NOT (payload->'grant_types' ? $2)`,
    [clientId, grantType],
  );
  if (rowCount > 0) return true;
  const exists = await db.query(
    `SELECT 1 FROM oidc_models WHERE model = 'Client' AND id = $1 AND payload->>'token_endpoint_auth_method' <> 'none'`, [clientId]);
  return exists.rowCount > 0;
}

/** Whether the operator lets this resource's irreversible scopes through the grant (0028). */
export async function isIrreversibleAllowedViaIdJag(db: Queryable, resourceUri: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM id_jag_irreversible_resources WHERE resource_uri = $1', [resourceUri]);
  return rowCount > 0;
}

/** False when it was already allowed. */
export async function allowIrreversibleViaIdJag(db: Queryable, resourceUri: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO id_jag_irreversible_resources (resource_uri) VALUES ($1) ON CONFLICT (resource_uri) DO NOTHING', [resourceUri]);
  return rowCount > 0;
}

/** False when it was not allowed. */
export async function denyIrreversibleViaIdJag(db: Queryable, resourceUri: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM id_jag_irreversible_resources WHERE resource_uri = $1', [resourceUri]);
  return rowCount > 0;
}

export async function listIrreversibleViaIdJag(db: Queryable): Promise<{ resourceUri: string; allowedAt: Date }[]> {
  const { rows } = await db.query<{ resource_uri: string; allowed_at: Date | string }>(
    'SELECT resource_uri, allowed_at FROM id_jag_irreversible_resources ORDER BY resource_uri');
  return rows.map((r) => ({ resourceUri: r.resource_uri, allowedAt: new Date(r.allowed_at) }));
}
