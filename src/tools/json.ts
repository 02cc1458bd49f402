// Tool governance's one wire form, for `resource tools --json`, the console and the admin API alike: snake_case names,
// `scope` the tool's scopes joined by spaces (null when the server does not say), status, risk, flags, findings, diff;
// and the admin API's JSON bodies, read into the services' input (their values are the services' to judge).
import { z } from 'zod';
import { driftPolicies, type ApprovedCatalog, type RefreshOutcome, type ToolCatalog } from './service.ts';
import type { CatalogTool } from './catalog.ts';
import { FINDING_WORDS } from './poisoned-description.ts';

export const catalogToolJson = (tool: CatalogTool) => ({
  name: tool.name,
  title: tool.definition.title ?? null,
  description: tool.definition.description ?? null,
  scope: tool.definition.scopes === null ? null : tool.definition.scopes.join(' '),
  risk: tool.risk,
  status: tool.status,
  flags: tool.flags,
  // §4: where the text may carry hidden instructions; `poisoned_description` in flags when any.
  findings: tool.findings.map((f) => ({ kind: f.kind, field: f.field, excerpt: f.excerpt, words: FINDING_WORDS[f.kind] })),
  diff: tool.diff || null,
  approved_at: tool.approved?.approvedAt.toISOString() ?? null,
});

export const toolCatalogJson = (catalog: ToolCatalog) => ({
  resource: catalog.resource.uri,
  drift: catalog.settings.driftPolicy,
  last_refresh_at: catalog.settings.lastRefreshAt?.toISOString() ?? null,
  last_refresh_error: catalog.settings.lastRefreshError ?? null,
  tools: catalog.tools.map(catalogToolJson),
});

/** A refresh: the catalog, the tools whose drift it found, and the error when the server could not be listed. */
export const refreshOutcomeJson = (outcome: RefreshOutcome) => ({ ...toolCatalogJson(outcome.catalog), error: outcome.error ?? null, drifted: outcome.drifted });

/** An approval (`resource tools approve --json`, the admin API): the catalog after it and each scope it made riskier (§3). */
export const approvedCatalogJson = (catalog: ApprovedCatalog) => ({
  ...toolCatalogJson(catalog),
  reconsent_required: catalog.raised.map((r) => ({ scope: r.scope, before: r.before, after: r.after, grants: r.grants, tools: r.tools.map((t) => t.name) })),
});

/** A drift policy change (`resource update --drift` alone, the admin API). */
export const driftPolicyJson = (catalog: ToolCatalog) => ({ resource: catalog.resource.uri, drift: catalog.settings.driftPolicy });

/** POST /admin/api/resources/{uri}/tools/approve: the tools to approve (default: every one not approved yet), the §4 acknowledgement. */
export const approveToolsBody = z.strictObject({ tools: z.array(z.string()).optional(), acknowledge_flags: z.boolean().default(false) });
/** PUT /admin/api/resources/{uri}/tools/drift. */
export const driftPolicyBody = z.strictObject({ drift: z.enum(driftPolicies) });
/** PUT /admin/api/resources/{uri}/budgets/tool/{name} and …/risk/{class}: at most `max` calls per `per_seconds`. */
export const budgetLimitBody = z.strictObject({ max: z.number(), per_seconds: z.number() });
/** PUT /admin/api/resources/{uri}/budgets/max-result-bytes: null (or 0, as in the CLI) removes the cap. */
export const resultCapBody = z.strictObject({ max_result_bytes: z.number().nullable() });
