// SQL for tool governance (migration 0029): the catalog as last listed, the approved pins, the drift found,
// and each resource's drift policy and last inventory. No rules here: src/tools/service.ts has them.
import type { ToolDefinition } from '@portcullis/resource-server';
import type { Queryable } from '../db/db.ts';

export type DriftPolicy = 'block' | 'warn';
export type DriftKind = 'new' | 'changed' | 'removed';

export interface StoredTool { name: string; definition: ToolDefinition; digest: string }
export interface ApprovedTool extends StoredTool { approvedAt: Date; approvedBy: string }
export interface ToolSettings { driftPolicy: DriftPolicy; lastRefreshAt: Date | undefined; lastRefreshError: string | undefined }
export interface OpenDrift { name: string; kind: DriftKind; digest: string | undefined; diff: string; detectedAt: Date }

export async function findToolSettings(db: Queryable, uri: string): Promise<ToolSettings> {
  const { rows } = await db.query<{ drift_policy: DriftPolicy; last_refresh_at: Date | null; last_refresh_error: string | null }>(
    'SELECT drift_policy, last_refresh_at, last_refresh_error FROM resource_tool_settings WHERE resource_uri = $1', [uri]);
  const row = rows[0];
  return { driftPolicy: row?.drift_policy ?? 'block', lastRefreshAt: row?.last_refresh_at ?? undefined, lastRefreshError: row?.last_refresh_error ?? undefined };
}

export async function saveRefreshOutcome(db: Queryable, uri: string, error: string | undefined): Promise<void> {
  await db.query(`INSERT INTO resource_tool_settings (resource_uri, last_refresh_at, last_refresh_error) VALUES ($1, now(), $2)
    ON CONFLICT (resource_uri) DO UPDATE SET last_refresh_at = now(), last_refresh_error = EXCLUDED.last_refresh_error`, [uri, error ?? null]);
}

export async function saveDriftPolicy(db: Queryable, uri: string, policy: DriftPolicy): Promise<void> {
  await db.query(`INSERT INTO resource_tool_settings (resource_uri, drift_policy) VALUES ($1, $2)
    ON CONFLICT (resource_uri) DO UPDATE SET drift_policy = EXCLUDED.drift_policy`, [uri, policy]);
}

type ToolRow = { name: string; definition: ToolDefinition; digest: string };

export async function listListedTools(db: Queryable, uri: string): Promise<StoredTool[]> {
  const { rows } = await db.query<ToolRow>('SELECT name, definition, digest FROM resource_tools WHERE resource_uri = $1 ORDER BY name', [uri]);
  return rows;
}

/** Makes `tools` the catalog as listed now: new rows inserted, changed ones replaced, the rest deleted. */
export async function replaceListedTools(db: Queryable, uri: string, tools: readonly StoredTool[]): Promise<void> {
  await db.query('DELETE FROM resource_tools WHERE resource_uri = $1 AND NOT (name = ANY($2::text[]))', [uri, tools.map((t) => t.name)]);
  for (const tool of tools) {
    await db.query(`INSERT INTO resource_tools (resource_uri, name, definition, digest) VALUES ($1, $2, $3, $4)
      ON CONFLICT (resource_uri, name) DO UPDATE SET definition = EXCLUDED.definition, digest = EXCLUDED.digest, last_seen_at = now()`,
    [uri, tool.name, JSON.stringify(tool.definition), tool.digest]);
  }
}

export async function listApprovedTools(db: Queryable, uri: string): Promise<ApprovedTool[]> {
  const { rows } = await db.query<ToolRow & { approved_at: Date; approved_by: string }>(
    'SELECT name, definition, digest, approved_at, approved_by FROM resource_tool_approvals WHERE resource_uri = $1 ORDER BY name', [uri]);
  return rows.map((row) => ({ name: row.name, definition: row.definition, digest: row.digest, approvedAt: row.approved_at, approvedBy: row.approved_by }));
}

/** The approved tools' names, titles and scopes only (the consent page, issue 14 §5), at most `limit`. */
export async function listApprovedToolTitles(db: Queryable, uri: string, limit: number): Promise<{ name: string; title: string | null; scopes: unknown }[]> {
  const { rows } = await db.query<{ name: string; title: string | null; scopes: unknown }>(
    `SELECT name, definition->>'title' AS title, definition->'scopes' AS scopes FROM resource_tool_approvals
      WHERE resource_uri = $1 ORDER BY name LIMIT $2`, [uri, limit]);
  return rows;
}

export async function saveApproval(db: Queryable, uri: string, tool: StoredTool, by: string): Promise<void> {
  await db.query(`INSERT INTO resource_tool_approvals (resource_uri, name, definition, digest, approved_by) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (resource_uri, name) DO UPDATE SET definition = EXCLUDED.definition, digest = EXCLUDED.digest,
      approved_at = now(), approved_by = EXCLUDED.approved_by`, [uri, tool.name, JSON.stringify(tool.definition), tool.digest, by]);
}

/** A removed tool's pin, dropped when the operator approves the catalog without it. */
export async function deleteApproval(db: Queryable, uri: string, name: string): Promise<void> {
  await db.query('DELETE FROM resource_tool_approvals WHERE resource_uri = $1 AND name = $2', [uri, name]);
}

export async function listOpenDrift(db: Queryable, uri: string): Promise<OpenDrift[]> {
  const { rows } = await db.query<{ name: string; kind: DriftKind; digest: string | null; diff: string; detected_at: Date }>(
    'SELECT name, kind, digest, diff, detected_at FROM resource_tool_drift WHERE resource_uri = $1 AND resolved_at IS NULL ORDER BY name, id', [uri]);
  return rows.map((row) => ({ name: row.name, kind: row.kind, digest: row.digest ?? undefined, diff: row.diff, detectedAt: row.detected_at }));
}

export async function insertDrift(db: Queryable, uri: string, drift: { name: string; kind: DriftKind; digest: string | undefined; diff: string }): Promise<void> {
  await db.query('INSERT INTO resource_tool_drift (resource_uri, name, kind, digest, diff) VALUES ($1, $2, $3, $4, $5)',
    [uri, drift.name, drift.kind, drift.digest ?? null, drift.diff]);
}

/** Closes a tool's open drift: it was approved, or it went back to its approved definition. */
export async function resolveDrift(db: Queryable, uri: string, name: string): Promise<void> {
  await db.query('UPDATE resource_tool_drift SET resolved_at = now() WHERE resource_uri = $1 AND name = $2 AND resolved_at IS NULL', [uri, name]);
}

/** Per resource with open drift: how many tools drifted (the console's overview). */
export async function countOpenDriftByResource(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.query<{ resource_uri: string; tools: number }>(
    'SELECT resource_uri, count(DISTINCT name)::int AS tools FROM resource_tool_drift WHERE resolved_at IS NULL GROUP BY resource_uri');
  return new Map(rows.map((row) => [row.resource_uri, row.tools]));
}

/** Every resource, for the periodic inventory. */
export async function listResourceUris(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ uri: string }>('SELECT uri FROM resources WHERE disabled_at IS NULL ORDER BY uri');
  return rows.map((row) => row.uri);
}

/** An enabled introspection client's secret digest and the one resource it belongs to (its resource credential). */
export async function findResourceCredential(db: Queryable, clientId: string): Promise<{ secretDigest: string; resourceUri: string } | undefined> {
  const { rows } = await db.query<{ secret: string | null; resource: string | null }>(
    `SELECT payload->>'client_secret' AS secret, payload->>'portcullis_introspects' AS resource FROM oidc_models
     WHERE model = 'Client' AND id = $1 AND (expires_at IS NULL OR expires_at > now())`, [clientId]);
  const row = rows[0];
  return row?.secret && row.resource ? { secretDigest: row.secret, resourceUri: row.resource } : undefined;
}
