// The registered resources' one service, under the CLI, the console and the admin API: checks their input
// (zod), runs each change in one transaction, audits it with its operator, codes its refusals, runs the metadata check.
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { tryCanonicalResourceUri } from './canonical-uri.ts';
import { checkProtectedResourceMetadata, type MetadataCheck } from './metadata-check.ts';
import { newResourceSchema, resourceSettingsSchema, type NewResource, type Resource, type ResourceSettingsInput } from './schema.ts';
import {
  insertResourceRow, listResourceActivity, saveMetadataCheck, setResourceClientAccess, setResourceDisabled, updateResourceRow,
  type ResourceActivity,
} from './settings-store.ts';
import { findResourceByUri, listResources } from './store.ts';

export type { MetadataCheck, NewResource, Resource, ResourceSettingsInput };

/** What every front end hands the service: the database and the configuration the rules read. */
export interface ResourceServiceDeps {
  db: Db;
  /** ISSUER: what the server's metadata must name in authorization_servers. */
  issuer: string;
  /** ACCESS_TOKEN_TTL_SECONDS: a new resource's token lifetime when none is given. */
  defaultTtlSeconds: number;
  /** CIMD_ALLOW_LOOPBACK: whether the metadata check may reach a loopback server (development). */
  allowLoopback: boolean;
}

export const resourceServiceDeps = (db: Db, config: {
  issuer: string; accessTokenTtlSeconds: number; cimd: { allowLoopback: boolean };
}): ResourceServiceDeps => ({ db, issuer: config.issuer, defaultTtlSeconds: config.accessTokenTtlSeconds, allowLoopback: config.cimd.allowLoopback });

/** A resource with what the overview shows beside it: when registered, its last check, its recent use. */
export interface ResourceOverview extends Resource, ResourceActivity {}

/** A registration or an edit, with the metadata check run after it (undefined: the operator skipped it). */
export interface ResourceOutcome { resource: Resource; check: MetadataCheck | undefined }

/** Whether to fetch the server's protected resource metadata after the change (default: yes). */
export interface CheckOption { check?: boolean | undefined }

const NEVER_USED: ResourceActivity = { createdAt: new Date(0), lastCheck: undefined, checkedAt: undefined, lastUsedAt: undefined, tokensLast30Days: 0 };

/** Every registered resource with its activity, ordered by URI. */
export async function listResourceOverview(db: Db): Promise<ResourceOverview[]> {
  const [resources, activity] = await Promise.all([listResources(db), listResourceActivity(db)]);
  return resources.map((resource) => ({ ...resource, ...(activity.get(resource.uri) ?? NEVER_USED) }));
}

/** The registered resource behind a URI as typed (lenient on case and a trailing slash), or resource_not_found. */
export async function requireResource(db: Db, uri: string): Promise<Resource> {
  const canonical = tryCanonicalResourceUri(uri);
  const resource = canonical ? await findResourceByUri(db, canonical) : undefined;
  if (!resource) throw new AppError('resource_not_found', `no resource is registered with URI ${JSON.stringify(uri.slice(0, 300))}`);
  return resource;
}

// The server's live protected resource metadata against the registration (RFC 9728), over the network.
const fetchCheck = (deps: ResourceServiceDeps, uri: string, scopes: readonly { scope: string }[], dpop: Resource['dpop']) => checkProtectedResourceMetadata({
  resourceUri: uri, issuer: deps.issuer, scopes: scopes.map((s) => s.scope), dpop, allowLoopback: deps.allowLoopback,
});

/** Fetches the server's protected resource metadata now and keeps the result for the overview. */
export async function checkResource(deps: ResourceServiceDeps, uri: string): Promise<MetadataCheck> {
  const resource = await requireResource(deps.db, uri);
  const check = await fetchCheck(deps, resource.uri, resource.scopes, resource.dpop);
  await saveMetadataCheck(deps.db, resource.uri, check);
  return check;
}

const alreadyRegistered = (uri: string) => new AppError('resource_exists', `${uri} is already registered`);

/**
 * Registers a resource, recorded as `resource.registered` with `by` as its operator. Validated before the
 * network is touched; the metadata check runs before the row is written and is kept with it. A mismatch warns
 * and never refuses: the server may be deployed after it is registered, or be fixed next.
 */
export async function registerResource(deps: ResourceServiceDeps, input: NewResource, by: Operator, { check = true }: CheckOption = {}): Promise<ResourceOutcome> {
  const parsed = newResourceSchema.parse(input);
  // Only to spare a fetch: the insert below is what refuses a duplicate.
  if (await findResourceByUri(deps.db, parsed.uri)) throw alreadyRegistered(parsed.uri);
  const checked = check ? await fetchCheck(deps, parsed.uri, parsed.scopes, parsed.dpop ?? 'allowed') : undefined;
  const resource = await deps.db.transaction(async (tx) => {
    const inserted = await insertResourceRow(tx, parsed.uri, {
      name: parsed.name, scopes: parsed.scopes, accessTokenFormat: parsed.accessTokenFormat, dpop: parsed.dpop ?? 'allowed',
      accessTokenTtlSeconds: parsed.accessTokenTtlSeconds ?? deps.defaultTtlSeconds,
    }, parsed.allowedClientIds);
    if (!inserted) throw alreadyRegistered(parsed.uri);
    if (checked) await saveMetadataCheck(tx, parsed.uri, checked);
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'resource.registered', resource: parsed.uri, scopes: parsed.scopes.map((s) => s.scope).join(' '),
      details: { name: parsed.name, client_access: parsed.allowedClientIds ? 'listed' : 'any', dpop: parsed.dpop ?? 'allowed' },
    }));
    return (await findResourceByUri(tx, parsed.uri))!;
  });
  return { resource, check: checked };
}

/**
 * Replaces a resource's settings (its URI never changes), recorded as `resource.changed` with before and
 * after; then checks the server's metadata against the new scopes.
 */
export async function updateResource(
  deps: ResourceServiceDeps, uri: string, input: ResourceSettingsInput, by: Operator, { check = true }: CheckOption = {},
): Promise<ResourceOutcome> {
  const before = await requireResource(deps.db, uri);
  const parsed = resourceSettingsSchema.parse(input);
  const after = await deps.db.transaction(async (tx) => {
    await updateResourceRow(tx, before.uri, {
      name: parsed.name, scopes: parsed.scopes, accessTokenFormat: parsed.accessTokenFormat, dpop: parsed.dpop ?? before.dpop,
      accessTokenTtlSeconds: parsed.accessTokenTtlSeconds ?? before.accessTokenTtlSeconds,
    });
    await setResourceClientAccess(tx, before.uri, parsed.allowedClientIds);
    const changed = (await findResourceByUri(tx, before.uri))!;
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'resource.changed', resource: changed.uri, scopes: changed.scopes.map((s) => s.scope).join(' '),
      details: { before: auditedSettings(before), after: auditedSettings(changed) },
    }));
    return changed;
  });
  return { resource: after, check: check ? await checkResource(deps, after.uri) : undefined };
}

/** Disables (no token names it: invalid_target) or enables a resource; audited only when something changed. */
export async function setResourceEnabled(db: Db, uri: string, enabled: boolean, by: Operator): Promise<{ resource: Resource; changed: boolean }> {
  const resource = await requireResource(db, uri);
  const changed = await db.transaction(async (tx) => {
    const flipped = (await setResourceDisabled(tx, resource.uri, !enabled)) === true;
    if (flipped) await recordAuditEvent(tx, operatorAuditEvent(by, { type: enabled ? 'resource.enabled' : 'resource.disabled', resource: resource.uri }));
    return flipped;
  });
  return { resource: await requireResource(db, resource.uri), changed };
}

// What the audit trail keeps of a resource's settings, to show what an edit changed.
const auditedSettings = (resource: Resource) => ({
  name: resource.name,
  access_token_ttl_seconds: resource.accessTokenTtlSeconds,
  access_token_format: resource.accessTokenFormat,
  dpop: resource.dpop,
  scopes: resource.scopes.map((s) => `${s.scope}=${s.risk}`),
  allowed_clients: resource.allowedClientIds,
});
