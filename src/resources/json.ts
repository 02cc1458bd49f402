// The registered resources' one wire form, for the CLI's --json and the admin API alike: snake_case names,
// ISO dates, null for none; and the admin API's JSON bodies, read into the service's input.
import { z } from 'zod';
import type { MetadataCheck } from './metadata-check.ts';
import { accessTokenFormats, dpopModes, riskClasses, type Resource, type ResourceSettingsInput } from './schema.ts';
import type { ResourceOutcome, ResourceOverview } from './service.ts';

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

/** A metadata check that ran: `checked` (compared; warnings may be empty) or `not_checked` (nothing usable fetched, see note). */
export const metadataCheckJson = (check: MetadataCheck) =>
  ({ status: check.status, metadata_url: check.metadataUrl ?? null, warnings: check.warnings, note: check.note ?? null });

/** The check after a registration or an edit; `skipped` when the operator asked for none (README, "resource add"). */
export const outcomeCheckJson = (check: MetadataCheck | undefined) =>
  (check === undefined ? { status: 'skipped' as const, metadata_url: null, warnings: [], note: null } : metadataCheckJson(check));

/** A resource; with its activity (created, last used, tokens in 30 days, last check: null when never checked) in a listing. */
export const resourceJson = (resource: Resource | ResourceOverview) => ({
  uri: resource.uri,
  name: resource.name,
  status: resource.disabled ? 'disabled' : 'active',
  access_token_ttl_seconds: resource.accessTokenTtlSeconds,
  access_token_format: resource.accessTokenFormat,
  dpop: resource.dpop,
  scopes: resource.scopes.map((s) => ({ scope: s.scope, risk: s.risk, description: s.description })),
  client_access: resource.allowedClientIds ? 'listed' : 'any',
  allowed_clients: resource.allowedClientIds,
  ...('createdAt' in resource ? {
    created_at: iso(resource.createdAt), last_used_at: iso(resource.lastUsedAt), tokens_last_30_days: resource.tokensLast30Days,
    last_check: resource.lastCheck ? metadataCheckJson(resource.lastCheck) : null, checked_at: iso(resource.checkedAt),
  } : {}),
});

/** `resource add --json` and POST/PUT /admin/api/resources: the resource as stored, and the check that followed. */
export const resourceOutcomeJson = (outcome: ResourceOutcome) => ({ resource: resourceJson(outcome.resource), check: outcomeCheckJson(outcome.check) });

const settingsFields = {
  name: z.string(),
  scopes: z.array(z.strictObject({ scope: z.string(), risk: z.enum(riskClasses), description: z.string().optional() })),
  access_token_ttl_seconds: z.number().optional(),
  access_token_format: z.enum(accessTokenFormats).optional(),
  dpop: z.enum(dpopModes).optional(),
  allowed_clients: z.array(z.string()).nullable().optional(),
  /** Fetch the server's protected resource metadata now (default true). */
  check: z.boolean().default(true),
};
/** POST /admin/api/resources: unknown fields refused; the values themselves are the service's schema's to judge. */
export const newResourceBody = z.strictObject({ uri: z.string(), ...settingsFields });
/** PUT /admin/api/resources/{uri}: the settings, which replace the current ones. */
export const resourceSettingsBody = z.strictObject(settingsFields);

/** A body's settings in the service's terms. */
export const settingsFromBody = (body: z.infer<typeof resourceSettingsBody>): ResourceSettingsInput => ({
  name: body.name,
  scopes: body.scopes.map((s) => ({ scope: s.scope, risk: s.risk, description: s.description ?? '' })),
  accessTokenTtlSeconds: body.access_token_ttl_seconds,
  accessTokenFormat: body.access_token_format,
  dpop: body.dpop,
  allowedClientIds: body.allowed_clients ?? null,
});
