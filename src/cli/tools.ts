// `resource tools`, `resource tools approve` and `resource tools refresh` (issue 14): each resource's MCP
// tools with their scope, risk, status against the approved pins, flags and diffs, through the tools service.
import { CLI_OPERATOR } from '../audit/operator.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { loadSecrets } from '../secrets.ts';
import { CATALOG_FLAG_WORDS } from '../tools/catalog.ts';
import { FINDING_WORDS } from '../tools/poisoned-description.ts';
import { approvedCatalogJson, refreshOutcomeJson, toolCatalogJson } from '../tools/json.ts';
import { approveTools, getToolCatalog, refreshToolCatalog, toolServiceDeps, type RefreshOutcome, type ToolCatalog } from '../tools/service.ts';
import { setMaxResultBytes, setToolBudget, removeToolBudget, type BudgetsJson } from '../tools/budgets.ts';
import { UsageError, type ParsedArgs } from './args.ts';
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
    return { json: approvedCatalogJson(catalog), text: ['Approved.', ...reconsent, ...catalogLines(catalog)].join('\n') };
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

const wholeNumber = (option: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text)) throw new UsageError(`resource budget: --${option} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
};

const budgetLines = (json: BudgetsJson) => [
  formatTable(['TOOL', 'RISK', 'MAX', 'PER SECONDS'], json.budgets.map((b) => [b.tool ?? '*', b.risk ?? '*', String(b.max), String(b.per_seconds)]), 'No budgets.'),
  `Result size cap: ${json.max_result_bytes === null ? 'none' : `${json.max_result_bytes} bytes`}`,
];

// Issue 14 §7: the kit enforces these per grant (per sub + client without a grant id), in memory.
const resourceBudget: CommandSpec = {
  name: 'resource budget',
  usage: '--uri URI (--tool NAME | --risk CLASS) (--max N --per SECONDS | --remove) | --uri URI --max-result-bytes N',
  summary: 'cap how often a tool, or every tool of a risk class, may be called per grant (--max calls per --per seconds), or the size of'
    + ' a tool\'s JSON result (--max-result-bytes; 0 removes the cap); the kit refuses what goes over',
  options: {
    uri: { type: 'string' }, tool: { type: 'string' }, risk: { type: 'string' }, max: { type: 'string' }, per: { type: 'string' },
    remove: { type: 'boolean' }, 'max-result-bytes': { type: 'string' },
  },
  async run({ db }, args) {
    const uri = args.required('uri');
    const cap = wholeNumber('max-result-bytes', args.string('max-result-bytes'));
    const target = { tool: args.string('tool'), risk: args.string('risk') };
    let json: BudgetsJson;
    if (cap !== undefined) {
      if (target.tool !== undefined || target.risk !== undefined || args.flag('remove')) throw new UsageError('resource budget: --max-result-bytes goes alone with --uri');
      json = await setMaxResultBytes(db, uri, cap === 0 ? null : cap, CLI_OPERATOR);
    } else if (args.flag('remove')) {
      json = await removeToolBudget(db, uri, target, CLI_OPERATOR);
    } else {
      const max = wholeNumber('max', args.string('max'));
      const per = wholeNumber('per', args.string('per'));
      if (max === undefined || per === undefined) throw new UsageError('resource budget: give --max N and --per SECONDS (or --remove)');
      json = await setToolBudget(db, uri, { ...target, max, per }, CLI_OPERATOR);
    }
    return { json, text: budgetLines(json).join('\n') };
  },
};

export const toolCommands: CommandSpec[] = [resourceTools, resourceToolsApprove, resourceToolsRefresh, resourceBudget];
