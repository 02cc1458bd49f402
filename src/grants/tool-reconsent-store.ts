// SQL for re-consent after a scope gained riskier tools (migration 0030): the scopes' levels, the flags on
// grants holding a raised scope, and their removal. No rules here: src/tools/reconsent.ts decides what raises a
// scope, src/grants/tool-reconsent.ts reads the flags for the authorization and clears them.
import type { Queryable } from '../db/db.ts';
import type { Risk } from '../resources/schema.ts';

/** A tool named on the re-consent notice: its approved title cleaned as the consent page shows titles. */
export interface NoticeTool { name: string; title: string }

/** One flag: this grant's `scope` at `resourceUri` reaches tools of `risk` the person has not seen. */
export interface ToolReconsentFlag { resourceUri: string; scope: string; risk: Risk; tools: NoticeTool[] }

export async function listScopeLevels(db: Queryable, uri: string): Promise<Map<string, Risk>> {
  const { rows } = await db.query<{ scope: string; risk: Risk }>('SELECT scope, risk FROM resource_scope_tool_levels WHERE resource_uri = $1', [uri]);
  return new Map(rows.map((row) => [row.scope, row.risk]));
}

export async function saveScopeLevel(db: Queryable, uri: string, scope: string, risk: Risk): Promise<void> {
  await db.query(`INSERT INTO resource_scope_tool_levels (resource_uri, scope, risk) VALUES ($1, $2, $3)
    ON CONFLICT (resource_uri, scope) DO UPDATE SET risk = EXCLUDED.risk, changed_at = now()`, [uri, scope, risk]);
}

/**
 * Flags every live grant (a person's own, not a token exchange's child grant) holding `scope` at `uri`: a grant
 * flagged already gets the new level and the union of the tools. Returns how many grants it flagged.
 */
export async function flagGrantsHoldingScope(db: Queryable, uri: string, scope: string, risk: Risk, tools: NoticeTool[]): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO grant_tool_reconsents (grant_id, resource_uri, scope, risk, tools)
     SELECT g.id, $1, $2, $3, $4::jsonb FROM oidc_models g
      WHERE g.model = 'Grant' AND g.grant_id IS NULL AND (g.expires_at IS NULL OR g.expires_at > now())
        AND $2 = ANY(string_to_array(g.payload->'resources'->>$1, ' '))
     ON CONFLICT (grant_id, resource_uri, scope) DO UPDATE SET risk = EXCLUDED.risk, flagged_at = now(),
       tools = (SELECT jsonb_agg(t) FROM (SELECT DISTINCT ON (t->>'name') t FROM jsonb_array_elements(grant_tool_reconsents.tools || EXCLUDED.tools) AS t
                ORDER BY t->>'name') AS tools(t))`,
    [uri, scope, risk, JSON.stringify(tools)]);
  return rowCount;
}

type FlagRow = { resource_uri: string; scope: string; risk: Risk; tools: NoticeTool[] };
const flagOf = (row: FlagRow): ToolReconsentFlag => ({ resourceUri: row.resource_uri, scope: row.scope, risk: row.risk, tools: row.tools });

/**
 * The grant's flags as a json array, a subquery the authorization prefetch (src/oidc/authorization-prefetch.ts)
 * adds to its one read; `grantIdSql` is the SQL expression of the grant's id.
 */
export const grantFlagsJsonSql = (grantIdSql: string) =>
  `(SELECT coalesce(json_agg(json_build_object('resource_uri', r.resource_uri, 'scope', r.scope, 'risk', r.risk, 'tools', r.tools)
     ORDER BY r.resource_uri, r.scope), '[]'::json) FROM grant_tool_reconsents r WHERE r.grant_id = ${grantIdSql})`;

export const flagsFromJson = (json: unknown): ToolReconsentFlag[] => (Array.isArray(json) ? (json as FlagRow[]).map(flagOf) : []);

export async function listGrantFlags(db: Queryable, grantId: string): Promise<ToolReconsentFlag[]> {
  const { rows } = await db.query<{ flags: unknown }>(`SELECT ${grantFlagsJsonSql('$1')} AS flags`, [grantId]);
  return flagsFromJson(rows[0]?.flags);
}

/** Clears the flags the person has just answered: only those shown (a flag raised meanwhile at a higher level stays). */
export async function clearGrantFlags(db: Queryable, grantId: string, flags: readonly ToolReconsentFlag[]): Promise<number> {
  if (flags.length === 0) return 0;
  const { rowCount } = await db.query(
    `DELETE FROM grant_tool_reconsents r USING unnest($2::text[], $3::text[], $4::text[]) AS shown(resource_uri, scope, risk)
      WHERE r.grant_id = $1 AND r.resource_uri = shown.resource_uri AND r.scope = shown.scope AND r.risk = shown.risk`,
    [grantId, flags.map((f) => f.resourceUri), flags.map((f) => f.scope), flags.map((f) => f.risk)]);
  return rowCount;
}

/** Flags whose grant is gone (revoked, expired, purged): nothing can read them any more. */
export async function purgeOrphanToolReconsents(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM grant_tool_reconsents r WHERE NOT EXISTS (SELECT 1 FROM oidc_models g WHERE g.model = 'Grant' AND g.id = r.grant_id)`);
  return rowCount;
}
