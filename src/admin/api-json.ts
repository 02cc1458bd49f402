// The admin API's wire shapes: snake_case names, ISO dates, null for "none", as in the CLI's --json.
// One function per kind of record, so the API never hands out a field by accident (no hashes, no secrets).
import type { MetadataCheck } from '../resources/metadata-check.ts';
import type { Resource } from '../resources/schema.ts';
import type { AdminClient } from './clients.ts';
import type { loadOverview } from './overview.ts';
import type { AdminResource } from './resources.ts';

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

export const checkJson = (check: MetadataCheck | undefined) => (check === undefined ? null
  : { status: check.status, metadata_url: check.metadataUrl ?? null, warnings: check.warnings, note: check.note ?? null });

export const resourceJson = (resource: Resource | AdminResource) => ({
  uri: resource.uri,
  name: resource.name,
  status: resource.disabled ? 'disabled' : 'active',
  access_token_ttl_seconds: resource.accessTokenTtlSeconds,
  access_token_format: resource.accessTokenFormat,
  scopes: resource.scopes.map((s) => ({ scope: s.scope, risk: s.risk, description: s.description })),
  client_access: resource.allowedClientIds ? 'listed' : 'any',
  allowed_clients: resource.allowedClientIds,
  ...('createdAt' in resource ? {
    created_at: iso(resource.createdAt), last_used_at: iso(resource.lastUsedAt), tokens_last_30_days: resource.tokensLast30Days,
    last_check: checkJson(resource.lastCheck), checked_at: iso(resource.checkedAt),
  } : {}),
});

export const clientJson = (client: AdminClient) => ({
  client_id: client.clientId,
  client_name: client.name ?? null,
  source: client.source,
  status: client.status,
  token_endpoint_auth_method: client.authMethod,
  redirect_uris: client.redirectUris,
  first_seen_at: iso(client.firstSeenAt),
  last_used_at: iso(client.lastUsedAt),
  grants: client.grants,
  replays_last_30_days: client.replaysLast30Days,
});

export const overviewJson = (overview: Awaited<ReturnType<typeof loadOverview>>) => ({
  metrics: Object.fromEntries(overview.metrics.map((metric) => [metric.key, {
    label: metric.label, last_24_hours: metric.last24h.total, last_30_days: metric.last30d.total,
    hourly: metric.hourly, daily: metric.daily,
  }])),
  resources_needing_attention: overview.resources.map((entry) => ({ uri: entry.item.uri, name: entry.item.name, reasons: entry.reasons })),
  clients_needing_attention: overview.clients.map((entry) => ({ client_id: entry.item.clientId, client_name: entry.item.name ?? null, reasons: entry.reasons })),
});
