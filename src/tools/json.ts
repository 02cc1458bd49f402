// Tool governance's one wire form, for `resource tools --json` and the console alike: snake_case names,
// `scope` the tool's scopes joined by spaces (null when the server does not say), status, risk, flags, findings, diff.
import type { RefreshOutcome, ToolCatalog } from './service.ts';
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
