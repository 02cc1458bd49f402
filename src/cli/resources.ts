// `resource add`, `update`, `show` and `list`: the MCP servers tokens may be issued for, with each scope's
// risk class and DPoP setting, through the resources service. A running server sees a new resource at once: it reads them from the database.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { resourceJson, resourceOutcomeJson } from '../resources/json.ts';
import type { MetadataCheck } from '../resources/metadata-check.ts';
import { accessTokenFormats, dpopModes, riskClasses, type AccessTokenFormat, type DpopMode, type Resource, type Risk } from '../resources/schema.ts';
import { listResourceOverview, registerResource, requireResource, resourceServiceDeps, updateResource } from '../resources/service.ts';
import { splitPair, UsageError, type ParsedArgs } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';
import { driftPolicies, refreshToolCatalog, setDriftPolicy, type DriftPolicy } from '../tools/service.ts';
import { driftPolicyJson, refreshOutcomeJson } from '../tools/json.ts';
import { catalogLines, refreshLines, toolCommands, toolDeps } from './tools.ts';

const isRisk = (value: string): value is Risk => (riskClasses as readonly string[]).includes(value);

function parseScopes(command: string, args: ParsedArgs) {
  const scopes = args.strings('scope').map((text) => {
    const [scope, risk] = splitPair(command, 'scope', text, 'SCOPE=RISK');
    if (!isRisk(risk)) {
      throw new UsageError(`${command}: invalid risk ${JSON.stringify(risk)} for scope ${scope}: use ${riskClasses.join(', ')}`);
    }
    return { scope, risk, description: '' };
  });
  if (scopes.length === 0) throw new UsageError(`${command}: declare at least one --scope SCOPE=RISK`);
  for (const text of args.strings('scope-description')) {
    // The description may contain '=' and so may a scope: match against the declared names, longest first.
    const target = scopes
      .filter((s) => text.startsWith(`${s.scope}=`))
      .sort((a, b) => b.scope.length - a.scope.length)[0];
    if (!target) {
      throw new UsageError(`${command}: --scope-description ${JSON.stringify(text)} names no scope declared with --scope`);
    }
    if (target.description !== '') throw new UsageError(`${command}: scope ${target.scope} has two descriptions`);
    target.description = text.slice(target.scope.length + 1);
  }
  return scopes;
}

function parseTtl(command: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // Number('') is 0 and Number('1e3') is 1000: accept plain digits only.
  if (!/^\d+$/.test(text)) throw new UsageError(`${command}: --ttl must be a whole number of seconds, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseTokenFormat(command: string, text: string | undefined): AccessTokenFormat | undefined {
  if (text === undefined) return undefined;
  const format = accessTokenFormats.find((f) => f === text);
  if (!format) throw new UsageError(`${command}: --token-format must be ${accessTokenFormats.join(' or ')}, got ${JSON.stringify(text)}`);
  return format;
}

function parseDpop(command: string, text: string | undefined): DpopMode | undefined {
  if (text === undefined) return undefined;
  const mode = dpopModes.find((m) => m === text);
  if (!mode) throw new UsageError(`${command}: --dpop must be ${dpopModes.join(' or ')}, got ${JSON.stringify(text)}`);
  return mode;
}

/** One resource as text: what `add`, `update` and `show` print. */
function resourceLines(resource: Resource): string[] {
  const scopeLines = resource.scopes.map((s) => `  ${s.scope} (${s.risk})${s.description ? `: ${s.description}` : ''}`);
  return [
    `${resource.uri} (${resource.name}), access tokens live ${resource.accessTokenTtlSeconds} s`
      + (resource.accessTokenFormat === 'opaque' ? ' (opaque: the server checks them by introspection)' : '')
      + (resource.disabled ? ' [disabled]' : ''),
    resource.dpop === 'required'
      ? 'DPoP: required (tokens only for token requests with a DPoP proof, bound to the client\'s key)'
      : 'DPoP: allowed (bearer tokens, or DPoP-bound ones when the client sends a proof)',
    `Clients: ${resource.allowedClientIds ? resource.allowedClientIds.join(' ') || '(none listed)' : 'any'}`,
    'Scopes:', ...scopeLines,
  ];
}

function checkLines(check: MetadataCheck | undefined): string[] {
  if (check === undefined) return ['Not checked against the server\'s protected resource metadata (--no-check).'];
  if (check.note !== undefined) return [`Note: ${check.note}.`];
  const source = check.metadataUrl ? ` at ${check.metadataUrl}` : '';
  if (check.warnings.length === 0) return [`Checked the server's protected resource metadata${source}: it matches.`];
  return [`Checked the server's protected resource metadata${source}:`, ...check.warnings.map((w) => `  warning: ${w}`)];
}

const resourceAdd: CommandSpec = {
  name: 'resource add',
  usage: '--uri URI --name NAME --scope S=RISK [--scope S=RISK …] [--scope-description S=TEXT …] [--ttl SECONDS] '
    + '[--token-format jwt|opaque] [--dpop required|allowed] [--no-check]',
  summary: `register an MCP server; RISK is one of ${riskClasses.join(' | ')}; --ttl is the access-token lifetime; `
    + '--token-format opaque issues tokens the server checks by introspection (default jwt). '
    + '--dpop required issues tokens only to token requests with a DPoP proof (RFC 9449), bound to the client\'s key '
    + '(default allowed). '
    + 'Before registering, fetches the server\'s protected resource metadata (RFC 9728) and prints a warning for '
    + 'each mismatch (resource, authorization_servers, scopes_supported); it registers either way. '
    + 'Then lists the server\'s MCP tools (tools/list) for the tool catalog and prints each tool\'s scope, risk and '
    + 'warnings; a server that cannot be listed is noted and registered all the same. --no-check skips both fetches',
  options: {
    uri: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string', multiple: true },
    'scope-description': { type: 'string', multiple: true },
    ttl: { type: 'string' },
    'token-format': { type: 'string' },
    dpop: { type: 'string' },
    'no-check': { type: 'boolean' },
  },
  async run({ db, config }, args) {
    const command = this.name;
    // The service validates before the network is touched: a typo fails at once, not after a fetch. Metadata
    // mismatches warn, they do not refuse: the server may be deployed after it is registered, or be fixed next.
    const outcome = await registerResource(resourceServiceDeps(db, config), {
      uri: args.required('uri'),
      name: args.required('name'),
      scopes: parseScopes(command, args),
      accessTokenTtlSeconds: parseTtl(command, args.string('ttl')),
      accessTokenFormat: parseTokenFormat(command, args.string('token-format')),
      dpop: parseDpop(command, args.string('dpop')),
    }, CLI_OPERATOR, { check: !args.flag('no-check') });
    const { resource, check } = outcome;
    // Best effort: the resource is registered whatever the inventory finds, a server that is down included.
    const tools = args.flag('no-check') ? undefined : await refreshToolCatalog(toolDeps(db, config), resource.uri, CLI_OPERATOR);
    return {
      json: { ...resourceOutcomeJson(outcome), ...(tools ? { tools: refreshOutcomeJson(tools) } : {}) },
      text: [`Registered ${resourceLines(resource)[0]}`, ...resourceLines(resource).slice(1), ...checkLines(check), ...(tools ? refreshLines(tools) : [])].join('\n'),
    };
  },
};

const resourceUpdate: CommandSpec = {
  name: 'resource update',
  usage: '--uri URI [--name NAME] [--ttl SECONDS] [--token-format jwt|opaque] [--dpop required|allowed] [--drift block|warn] [--no-check]',
  summary: 'change a registered MCP server\'s settings; what is not given stays as it is (scopes and client list '
    + 'are edited in the admin console or API). Then re-checks its protected resource metadata unless --no-check. '
    + '--drift sets what the kit does with changed or new write/irreversible tools: block (default) refuses their calls until approved, warn lets them through',
  options: {
    uri: { type: 'string' },
    name: { type: 'string' },
    ttl: { type: 'string' },
    'token-format': { type: 'string' },
    dpop: { type: 'string' },
    drift: { type: 'string' },
    'no-check': { type: 'boolean' },
  },
  async run({ db, config }, args) {
    const command = this.name;
    const drift = args.string('drift');
    if (drift !== undefined && !(driftPolicies as readonly string[]).includes(drift)) {
      throw new UsageError(`${command}: --drift must be block or warn, got ${JSON.stringify(drift)}`);
    }
    const settings = {
      name: args.string('name'), accessTokenTtlSeconds: parseTtl(command, args.string('ttl')),
      accessTokenFormat: parseTokenFormat(command, args.string('token-format')), dpop: parseDpop(command, args.string('dpop')),
    };
    if (Object.values(settings).every((value) => value === undefined)) {
      if (drift !== undefined) {
        const catalog = await setDriftPolicy(db, args.required('uri'), drift as DriftPolicy, CLI_OPERATOR);
        return { json: driftPolicyJson(catalog), text: catalogLines(catalog)[0]! };
      }
      throw new UsageError(`${command}: nothing to change: give --name, --ttl, --token-format, --dpop or --drift`);
    }
    if (drift !== undefined) await setDriftPolicy(db, args.required('uri'), drift as DriftPolicy, CLI_OPERATOR);
    const current = await requireResource(db, args.required('uri'));
    const outcome = await updateResource(resourceServiceDeps(db, config), current.uri, {
      name: settings.name ?? current.name,
      scopes: current.scopes,
      accessTokenTtlSeconds: settings.accessTokenTtlSeconds ?? current.accessTokenTtlSeconds,
      accessTokenFormat: settings.accessTokenFormat ?? current.accessTokenFormat,
      dpop: settings.dpop ?? current.dpop,
      allowedClientIds: current.allowedClientIds,
    }, CLI_OPERATOR, { check: !args.flag('no-check') });
    const lines = resourceLines(outcome.resource);
    return { json: resourceOutcomeJson(outcome), text: [`Updated ${lines[0]}`, ...lines.slice(1), ...checkLines(outcome.check)].join('\n') };
  },
};

const resourceShow: CommandSpec = {
  name: 'resource show',
  usage: '--uri URI',
  summary: 'show one registered MCP server: lifetime, token format, DPoP setting, clients and scopes',
  options: { uri: { type: 'string' } },
  async run({ db }, args) {
    const resource = await requireResource(db, args.required('uri'));
    return { json: { resource: resourceJson(resource) }, text: resourceLines(resource).join('\n') };
  },
};

const resourceList: CommandSpec = {
  name: 'resource list',
  usage: '',
  summary: 'list registered MCP servers and their scopes',
  options: {},
  async run({ db }) {
    const resources = await listResourceOverview(db);
    return {
      json: { resources: resources.map(resourceJson) },
      text: formatTable(
        ['URI', 'NAME', 'TTL', 'FORMAT', 'DPOP', 'SCOPES'],
        resources.map((r) => [r.uri, r.name, `${r.accessTokenTtlSeconds}s`, r.accessTokenFormat, r.dpop, r.scopes.map((s) => `${s.scope}=${s.risk}`).join(' ')]),
        'No resources registered yet. Register one with: resource add --uri URI --name NAME --scope S=RISK',
      ),
    };
  },
};

export const resourceCommands: CommandSpec[] = [resourceAdd, resourceUpdate, resourceShow, resourceList, ...toolCommands];
