// SQL for cached Client ID Metadata Documents and the grants to ask about again after a change.
// The cache lives in the database so every server process serves the same document.
import type { Queryable } from '../db/db.ts';
import type { ClientMetadata } from './document.ts';

export interface CachedDocument {
  metadata: ClientMetadata;
  fresh: boolean;
  changedAt: Date | null;
}

export async function findCachedDocument(db: Queryable, clientId: string): Promise<CachedDocument | undefined> {
  const { rows } = await db.query<{ metadata: ClientMetadata; fresh: boolean; changed_at: Date | null }>(
    `SELECT metadata, expires_at > now() AS fresh, changed_at FROM client_metadata_documents WHERE client_id = $1`,
    [clientId],
  );
  const row = rows[0];
  return row ? { metadata: row.metadata, fresh: row.fresh, changedAt: row.changed_at } : undefined;
}

export interface SavedDocument {
  /** Whether the document's redirect_uris or client_name differ from the copy stored before. */
  changed: boolean;
  flaggedGrants: number;
  previous: ClientMetadata | null;
}

// One statement, so a change and the flagging of the grants it affects happen together. A client's
// grants are found by the clientId in their payload (oidc-provider keeps it nowhere else).
const saveSql = `
  WITH previous AS (
    SELECT metadata FROM client_metadata_documents WHERE client_id = $1
  ), changed AS (
    SELECT EXISTS (
      SELECT 1 FROM previous
      WHERE metadata->'redirect_uris' IS DISTINCT FROM $2::jsonb->'redirect_uris'
         OR metadata->'client_name' IS DISTINCT FROM $2::jsonb->'client_name'
    ) AS yes
  ), saved AS (
    INSERT INTO client_metadata_documents (client_id, metadata, fetched_at, expires_at)
    VALUES ($1, $2::jsonb, now(), now() + make_interval(secs => $3::int))
    ON CONFLICT (client_id) DO UPDATE SET metadata = EXCLUDED.metadata, fetched_at = EXCLUDED.fetched_at,
      expires_at = EXCLUDED.expires_at,
      changed_at = CASE WHEN (SELECT yes FROM changed) THEN now() ELSE client_metadata_documents.changed_at END
    RETURNING 1
  ), flagged AS (
    INSERT INTO client_metadata_document_reconsents (grant_id, client_id)
    SELECT id, $1 FROM oidc_models
    WHERE model = 'Grant' AND payload->>'clientId' = $1 AND (SELECT yes FROM changed)
      AND (expires_at IS NULL OR expires_at > now())
    ON CONFLICT (grant_id) DO NOTHING
    RETURNING 1
  )
  SELECT (SELECT yes FROM changed) AS changed, (SELECT count(*) FROM flagged)::int AS flagged_grants,
    (SELECT metadata FROM previous) AS previous, (SELECT count(*) FROM saved)::int AS saved`;

/** Stores a freshly fetched document for `ttlSeconds`, flagging the client's grants if it changed. */
export async function saveFetchedDocument(db: Queryable, metadata: ClientMetadata, ttlSeconds: number): Promise<SavedDocument> {
  const { rows } = await db.query<{ changed: boolean; flagged_grants: number; previous: ClientMetadata | null }>(
    saveSql, [metadata.client_id, JSON.stringify(metadata), ttlSeconds]);
  const row = rows[0]!;
  return { changed: row.changed, flaggedGrants: Number(row.flagged_grants), previous: row.previous };
}

/** Whether this grant was given before its client's document changed (and not confirmed since). */
export async function isGrantFlaggedForReconsent(db: Queryable, grantId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM client_metadata_document_reconsents WHERE grant_id = $1', [grantId]);
  return rows.length > 0;
}

/** The person has answered a consent page for this grant: what they agreed to is current again. */
export async function clearReconsentFlag(db: Queryable, grantId: string): Promise<void> {
  await db.query('DELETE FROM client_metadata_document_reconsents WHERE grant_id = $1', [grantId]);
}

/** Drops flags whose grant no longer exists (revoked or expired), so the table does not grow forever. */
export async function forgetFlagsOfVanishedGrants(db: Queryable, clientId: string): Promise<void> {
  await db.query(
    `DELETE FROM client_metadata_document_reconsents r WHERE r.client_id = $1
     AND NOT EXISTS (SELECT 1 FROM oidc_models g WHERE g.model = 'Grant' AND g.id = r.grant_id)`,
    [clientId],
  );
}
