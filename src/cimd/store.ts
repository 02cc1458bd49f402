// SQL for cached Client ID Metadata Documents and the grants to ask about again after a change, and
// their purge. The cache lives in the database so every server process serves the same document.
import type { Queryable } from '../db/db.ts';
import type { ClientMetadata } from './document.ts';
import { purgeExpiredFailures } from './failure-store.ts';

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
// grants are found by the clientId in their payload (oidc-provider keeps it nowhere else). A failure
// remembered for the client (failure-store.ts) is over: it goes in the same statement.
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
  ), recovered AS (
    DELETE FROM client_metadata_document_failures WHERE client_id = $1
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

/**
 * Makes the cached copy stale, so the next use fetches the document again. The row stays: it is the
 * baseline the refetched document is compared with, and dropping it would let a changed document skip
 * re-consent. Returns whether there was a copy.
 */
export async function expireCachedDocument(db: Queryable, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE client_metadata_documents SET expires_at = LEAST(expires_at, now()) WHERE client_id = $1', [clientId]);
  return rowCount > 0;
}

/**
 * How long an expired document is kept after its last fetch, even when nothing refers to its client.
 * The rule that protects people is the reference check below (a grant's baseline is never dropped);
 * this is the margin around it. A client in use is refetched at least daily (MAX_CACHE_SECONDS), so a
 * month without a fetch means nobody used it for a month: nothing is in flight for it (an interaction
 * lives an hour, a consent page open in a tab no longer), and the operator's client overview keeps the
 * "first seen" of every client used lately.
 */
export const UNUSED_DOCUMENT_RETENTION_DAYS = 30;

// A document still matters while anything oidc-provider could use refers to its client: a grant (the
// re-consent baseline), a code or token (found by the clientId in its payload), or a session that
// authorized the client (Session.authorizations is keyed by client_id). The conditions on the outer
// row are repeated so a document refetched while this runs is re-checked with its new times and kept.
const purgeDocumentsSql = `
  DELETE FROM client_metadata_documents WHERE client_id IN (
    SELECT d.client_id FROM client_metadata_documents d
    WHERE d.expires_at <= $1::timestamptz AND d.fetched_at <= $1::timestamptz - make_interval(days => $2::int)
      AND NOT EXISTS (SELECT 1 FROM oidc_models g WHERE g.model = 'Grant' AND g.payload->>'clientId' = d.client_id
                      AND (g.expires_at IS NULL OR g.expires_at > $1::timestamptz))
      AND NOT EXISTS (SELECT 1 FROM oidc_models t WHERE t.model IN ('AuthorizationCode', 'AccessToken', 'RefreshToken')
                      AND t.payload->>'clientId' = d.client_id AND (t.expires_at IS NULL OR t.expires_at > $1::timestamptz))
      AND NOT EXISTS (SELECT 1 FROM oidc_models s WHERE s.model = 'Session' AND s.payload->'authorizations' ? d.client_id
                      AND (s.expires_at IS NULL OR s.expires_at > $1::timestamptz))
    LIMIT $3)
  AND expires_at <= $1::timestamptz AND fetched_at <= $1::timestamptz - make_interval(days => $2::int)`;

// oidc-provider no longer finds an expired grant, so its flag can never be read again either.
const purgeFlagsSql = `
  DELETE FROM client_metadata_document_reconsents WHERE grant_id IN (
    SELECT r.grant_id FROM client_metadata_document_reconsents r
    WHERE NOT EXISTS (SELECT 1 FROM oidc_models g WHERE g.model = 'Grant' AND g.id = r.grant_id
                      AND (g.expires_at IS NULL OR g.expires_at > $1::timestamptz))
    LIMIT $2)`;

export interface MetadataDocumentPurge { documents: number; reconsentFlags: number; failures: number }

/**
 * One batch (up to `batchSize` rows of each kind) for the purge timer: documents that can no longer
 * matter, re-consent flags whose grant is gone, and failures past their window.
 */
export async function purgeMetadataDocumentCache(db: Queryable, now = new Date(), batchSize = 5000): Promise<MetadataDocumentPurge> {
  const documents = await db.query(purgeDocumentsSql, [now, UNUSED_DOCUMENT_RETENTION_DAYS, batchSize]);
  const flags = await db.query(purgeFlagsSql, [now, batchSize]);
  const failures = await purgeExpiredFailures(db, now, batchSize);
  return { documents: documents.rowCount, reconsentFlags: flags.rowCount, failures };
}
