// `resource tools`, `resource tools approve` and `resource tools refresh` (issue 14): each resource's MCP
// tools with their scope, risk, status against the approved pins, flags and diffs, through the tools service.
import { CLI_OPERATOR } from '../audit/operator.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { loadSecrets } from '../secrets.ts';
import { CATALOG_FLAG_WORDS } from '../tools/catalog.ts';
import { FINDING_WORDS } from '../tools/poisoned-description.ts';
import { refreshOutcomeJson, toolCatalogJson } from '../tools/json.ts';
import { approveTools, getToolCatalog, refreshToolCatalog, toolServiceDeps, type RefreshOutcome, type ToolCatalog } from '../tools/service.ts';
import type { ParsedArgs } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

export const toolDeps = (db: Db, config: Config) => toolServiceDeps(db, config, loadSecrets(config).keyEncryptionSecret);

/** The catalog as text: a table, then each tool's warnings and diff. */
export function catalogLines(catalog: ToolCatalog): string[] {
  const { settings, tools } = catalog;
  const lines = [
    `Tools of ${catalog.resource.uri} (drift policy: ${settings.driftPolicy}; last listed: ${settings.lastRefreshAt?.toISOString() ?? 'never'}`
      + `${settings.lastRefreshError ? `, failed: ${settings.lastRefreshError}` : ''})`,
    formatTable(['TOOL', 'SCOPE', 'RISK', 'STATUS', 'FLAGS'],
      tools.map((t) => [t.name, t.definition.scopes === null ? '(unknown)' : t.definition.scopes.join(' ') || '(none)', t.risk, t.status, t.flags.join(' ')]),
      'No tools known yet: run resource tools refresh --uri URI'),
  ];
  for (const tool of tools) {
    for (const flag of tool.flags) lines.push(`warning: ${tool.name}: ${CATALOG_FLAG_WORDS[flag]}`);
    for (const finding of tool.findings) lines.push(`  ${finding.kind} in ${finding.field}: ${JSON.stringify(finding.excerpt)}`, `    ${FINDING_WORDS[finding.kind]}`);
    if (tool.diff) lines.push(`${tool.name} (${tool.status}):`, ...tool.diff.split('\n').map((line) => `  ${line}`));
  }
  return lines;
}

/** What `resource add` and `resource tools refresh` print of an inventory. */
export function refreshLines(outcome: RefreshOutcome): string[] {
  if (outcome.error) return [`Could not list the server's tools: ${outcome.error}. Try again with resource tools refresh --uri URI.`];
  return [...catalogLines(outcome.catalog), ...(outcome.drifted.length ? [`Drift found: ${outcome.drifted.join(' ')}`] : [])];
}

const toolNames = (args: ParsedArgs) => args.strings('tool');

const resourceTools: CommandSpec = {
  name: 'resource tools',
  usage: '--uri URI',
  summary: 'list a resource\'s MCP tools as last inventoried: scope, risk, status (approved | new | changed | removed), flags and diffs',
  options: { uri: { type: 'string' } },
  async run({ db }, args) {
    const catalog = await getToolCatalog(db, args.required('uri'));
    return { json: toolCatalogJson(catalog), text: catalogLines(catalog).join('\n') };
  },
};

const resourceToolsApprove: CommandSpec = {
  name: 'resource tools approve',
  usage: '--uri URI [--tool NAME …] [--acknowledge-flags]',
  summary: 'approve the tools as listed now (default: every tool not approved yet); the kit then lets their calls through.'
    + ' A tool flagged poisoned_description is approved only with --acknowledge-flags (without it nothing is approved)',
  options: { uri: { type: 'string' }, tool: { type: 'string', multiple: true }, 'acknowledge-flags': { type: 'boolean' } },
  async run({ db }, args) {
    const names = toolNames(args);
    const catalog = await approveTools(db, args.required('uri'), { tools: names.length ? names : undefined, acknowledgeFlags: args.flag('acknowledge-flags') }, CLI_OPERATOR);
    // Issue 14 §3: the scopes this approval made riskier, and how many grants now ask their person again.
    const reconsent = catalog.raised.map((r) => `re-consent: ${r.scope} now reaches ${r.after} tools (${r.tools.map((t) => t.name).join(', ')}), was ${r.before}:`
      + ` ${r.grants} grant${r.grants === 1 ? '' : 's'} will ask the person again at the next authorization`);
    const raised = catalog.raised.map((r) => ({ scope: r.scope, before: r.before, after: r.after, grants: r.grants, tools: r.tools.map((t) => t.name) }));
    return { json: { ...toolCatalogJson(catalog), reconsent_required: raised }, text: ['Approved.', ...reconsent, ...catalogLines(catalog)].join('\n') };
  },
};

const resourceToolsRefresh: CommandSpec = {
  name: 'resource tools refresh',
  usage: '--uri URI',
  summary: 'list the server\'s tools now (tools/list with a token of Portcullis\'s own) and record any drift from the approved ones',
  options: { uri: { type: 'string' } },
  async run({ db, config }, args) {
    const outcome = await refreshToolCatalog(toolDeps(db, config), args.required('uri'), CLI_OPERATOR);
    return { json: refreshOutcomeJson(outcome), text: refreshLines(outcome).join('\n') };
  },
};

export const toolCommands: CommandSpec[] = [resourceTools, resourceToolsApprove, resourceToolsRefresh];
