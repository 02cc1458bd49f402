// SQL for registered resources and their scopes. Nothing here knows about HTTP or oidc-provider.
import type { Db, Queryable } from '../db/db.ts';
import { insertResourceRow } from './settings-store.ts';
import { newResourceSchema, type AccessTokenFormat, type DpopMode, type NewResource, type Resource, type Risk } from './schema.ts';

export class ResourceAlreadyRegisteredError extends Error {
  override name = 'ResourceAlreadyRegisteredError';
}

type ResourceRow = {
  uri: string;
  name: string;
  access_token_ttl_seconds: number;
  access_token_format: AccessTokenFormat;
  dpop: DpopMode;
  scopes: { scope: string; risk: Risk; description: string }[] | null;
  disabled: boolean;
  allowed_client_ids: string[] | null;
};

const selectResources = `
  SELECT r.uri, r.name, r.access_token_ttl_seconds, r.access_token_format, r.dpop,
         (SELECT json_agg(json_build_object('scope', s.scope, 'risk', s.risk, 'description', s.description)
                          ORDER BY s.position, s.scope)
          FROM resource_scopes s WHERE s.resource_uri = r.uri) AS scopes,
         r.disabled_at IS NOT NULL AS disabled,
         CASE WHEN r.client_access = 'listed' THEN
           (SELECT coalesce(json_agg(a.client_id ORDER BY a.client_id), '[]'::json)
            FROM resource_allowed_clients a WHERE a.resource_uri = r.uri) END AS allowed_client_ids
  FROM resources r`;

const toResource = (row: ResourceRow): Resource => ({
  uri: row.uri,
  name: row.name,
  accessTokenTtlSeconds: row.access_token_ttl_seconds,
  accessTokenFormat: row.access_token_format,
  dpop: row.dpop,
  scopes: row.scopes ?? [],
  disabled: row.disabled,
  allowedClientIds: row.allowed_client_ids,
});

/**
 * Registers a resource (for fixtures and seeding; operators register through service.ts, which audits).
 * The URI is stored canonical. Throws ResourceAlreadyRegisteredError on a duplicate URI.
 */
export async function addResource(db: Db, input: NewResource, defaultTtlSeconds: number): Promise<Resource> {
  const resource = newResourceSchema.parse(input);
  const ttl = resource.accessTokenTtlSeconds ?? defaultTtlSeconds;
  const dpop = resource.dpop ?? 'allowed';
  const inserted = await db.transaction((tx) => insertResourceRow(tx, resource.uri, {
    name: resource.name, scopes: resource.scopes, accessTokenTtlSeconds: ttl, accessTokenFormat: resource.accessTokenFormat, dpop,
  }, resource.allowedClientIds));
  if (!inserted) throw new ResourceAlreadyRegisteredError(`${resource.uri} is already registered`);
  return {
    uri: resource.uri, name: resource.name, accessTokenTtlSeconds: ttl, accessTokenFormat: resource.accessTokenFormat, dpop,
    scopes: resource.scopes, disabled: false, allowedClientIds: resource.allowedClientIds,
  };
}

/** The resource at `uriExpr` (SQL) as one JSON column `resource` of a larger query (src/oidc/authorization-prefetch.ts). */
export const resourceJsonSql = (uriExpr: string) =>
  `(SELECT row_to_json(found) FROM (${selectResources} WHERE r.uri = ${uriExpr}) AS found) AS resource`;

/** A resource from resourceJsonSql's column; undefined when it found none. */
export const resourceFromJson = (json: unknown): Resource | undefined =>
  json && typeof json === 'object' ? toResource(json as ResourceRow) : undefined;

/** Looks a resource up by its canonical URI. */
export async function findResourceByUri(db: Queryable, canonicalUri: string): Promise<Resource | undefined> {
  const { rows } = await db.query<ResourceRow>(`${selectResources} WHERE r.uri = $1`, [canonicalUri]);
  return rows[0] ? toResource(rows[0]) : undefined;
}

export async function listResources(db: Queryable): Promise<Resource[]> {
  const { rows } = await db.query<ResourceRow>(`${selectResources} ORDER BY r.uri`);
  return rows.map(toResource);
}

/** The URI of the only registered resource, or undefined when there are none or several. */
export async function findSoleResourceUri(db: Queryable): Promise<string | undefined> {
  const { rows } = await db.query<{ uri: string }>('SELECT uri FROM resources LIMIT 2');
  return rows.length === 1 ? rows[0]?.uri : undefined;
}

/** Every scope any registered resource declares (for discovery and registration checks). */
export async function listAllScopes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ scope: string }>('SELECT DISTINCT scope FROM resource_scopes ORDER BY scope');
  return rows.map((row) => row.scope);
}
