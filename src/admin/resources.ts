// Admin operations on registered resources (MCP servers), shared by the console and the JSON API:
// register, edit, disable/enable, re-check the server's live metadata; each one audited with its actor.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { checkProtectedResourceMetadata, type MetadataCheck } from '../resources/metadata-check.ts';
import { accessTokenFormats, MIN_ACCESS_TOKEN_TTL_SECONDS, newResourceSchema, resourceScopeSchema, type Resource } from '../resources/schema.ts';
import { findResourceByUri, listResources } from '../resources/store.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import { adminAuditEvent, type AdminActor } from './actor.ts';
import {
  insertResourceRow, listResourceActivity, saveMetadataCheck, setResourceClientAccess, setResourceDisabled, updateResourceRow,
  type ResourceActivity,
} from './resource-store.ts';

/** allowLoopback: CIMD_ALLOW_LOOPBACK, whether the metadata check may reach a loopback server (development). */
export interface ResourceSettings { issuer: string; defaultTtlSeconds: number; allowLoopback?: boolean }

const clientIds = z.array(z.string().trim().min(1).max(2048)).max(500)
  .refine((ids) => new Set(ids).size === ids.length, 'each client may be listed once');

/** What an operator may set on a resource; the URI is its identity (the tokens' audience) and never changes. */
export const resourceSettingsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(resourceScopeSchema).min(1, 'declare at least one scope').max(100)
    .refine((scopes) => new Set(scopes.map((s) => s.scope)).size === scopes.length, 'scopes must be unique'),
  accessTokenTtlSeconds: z.number().int().min(MIN_ACCESS_TOKEN_TTL_SECONDS).max(3600).optional(),
  accessTokenFormat: z.enum(accessTokenFormats).default('jwt'),
  /** null: any client; a list: only these clients may obtain tokens for the resource. */
  allowedClientIds: clientIds.nullable().default(null),
});
export const newAdminResourceSchema = resourceSettingsSchema.extend({ uri: newResourceSchema.shape.uri });
export type ResourceSettingsInput = z.input<typeof resourceSettingsSchema>;

export interface AdminResource extends Resource, ResourceActivity {}

export async function listAdminResources(db: Db): Promise<AdminResource[]> {
  const [resources, activity] = await Promise.all([listResources(db), listResourceActivity(db)]);
  return resources.map((resource) => ({
    ...resource,
    ...(activity.get(resource.uri) ?? { createdAt: new Date(0), lastCheck: undefined, checkedAt: undefined, lastUsedAt: undefined, tokensLast30Days: 0 }),
  }));
}

/** The registered resource behind a URI as typed (lenient on case and a trailing slash), or a 404. */
export async function requireResource(db: Db, uri: string): Promise<Resource> {
  const canonical = tryCanonicalResourceUri(uri);
  const resource = canonical ? await findResourceByUri(db, canonical) : undefined;
  if (!resource) throw new AppError('resource_not_found', `no resource is registered with URI ${JSON.stringify(uri.slice(0, 300))}`);
  return resource;
}

/** Fetches the server's protected resource metadata now and keeps the result for the overview. */
export async function checkResource(db: Db, resource: Resource, settings: ResourceSettings): Promise<MetadataCheck> {
  const check = await checkProtectedResourceMetadata({
    resourceUri: resource.uri, issuer: settings.issuer, scopes: resource.scopes.map((s) => s.scope), allowLoopback: settings.allowLoopback,
  });
  await saveMetadataCheck(db, resource.uri, check);
  return check;
}

export async function registerResource(
  db: Db, input: z.input<typeof newAdminResourceSchema>, settings: ResourceSettings, by: AdminActor, { check = true } = {},
): Promise<{ resource: Resource; check: MetadataCheck | undefined }> {
  const parsed = newAdminResourceSchema.parse(input);
  const inserted = await db.transaction((tx) => insertResourceRow(tx, parsed.uri, {
    name: parsed.name, scopes: parsed.scopes, accessTokenFormat: parsed.accessTokenFormat,
    accessTokenTtlSeconds: parsed.accessTokenTtlSeconds ?? settings.defaultTtlSeconds,
  }, parsed.allowedClientIds));
  if (!inserted) throw new AppError('resource_exists', `${parsed.uri} is already registered`);
  const resource = await requireResource(db, parsed.uri);
  await recordAuditEvent(db, adminAuditEvent(by, {
    type: 'resource.registered', resource: resource.uri, scopes: resource.scopes.map((s) => s.scope).join(' '),
    details: { name: resource.name, client_access: parsed.allowedClientIds ? 'listed' : 'any' },
  }));
  return { resource, check: check ? await checkResource(db, resource, settings) : undefined };
}

export async function updateResource(
  db: Db, uri: string, input: ResourceSettingsInput, settings: ResourceSettings, by: AdminActor, { check = true } = {},
): Promise<{ resource: Resource; check: MetadataCheck | undefined }> {
  const before = await requireResource(db, uri);
  const parsed = resourceSettingsSchema.parse(input);
  await db.transaction(async (tx) => {
    await updateResourceRow(tx, before.uri, {
      name: parsed.name, scopes: parsed.scopes, accessTokenFormat: parsed.accessTokenFormat,
      accessTokenTtlSeconds: parsed.accessTokenTtlSeconds ?? before.accessTokenTtlSeconds,
    });
    await setResourceClientAccess(tx, before.uri, parsed.allowedClientIds);
  });
  const after = await requireResource(db, before.uri);
  await recordAuditEvent(db, adminAuditEvent(by, {
    type: 'resource.changed', resource: after.uri, scopes: after.scopes.map((s) => s.scope).join(' '),
    details: { before: describe(before), after: describe(after) },
  }));
  return { resource: after, check: check ? await checkResource(db, after, settings) : undefined };
}

export async function setResourceEnabled(db: Db, uri: string, enabled: boolean, by: AdminActor): Promise<{ resource: Resource; changed: boolean }> {
  const resource = await requireResource(db, uri);
  const changed = (await setResourceDisabled(db, resource.uri, !enabled)) === true;
  if (changed) {
    await recordAuditEvent(db, adminAuditEvent(by, { type: enabled ? 'resource.enabled' : 'resource.disabled', resource: resource.uri }));
  }
  return { resource: await requireResource(db, resource.uri), changed };
}

// What the audit trail keeps of a resource's settings, to show what an edit changed.
const describe = (resource: Resource) => ({
  name: resource.name,
  access_token_ttl_seconds: resource.accessTokenTtlSeconds,
  access_token_format: resource.accessTokenFormat,
  scopes: resource.scopes.map((s) => `${s.scope}=${s.risk}`),
  allowed_clients: resource.allowedClientIds,
});
