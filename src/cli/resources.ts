// `resource add` and `resource list`: the MCP servers tokens may be issued for, with each scope's risk
// class. A running server sees a new resource at once: it reads resources from the database.
import { recordAuditEvent } from '../audit/store.ts';
import { riskClasses, type Resource, type Risk } from '../resources/schema.ts';
import { addResource, listResources } from '../resources/store.ts';
import { splitPair, UsageError, type ParsedArgs } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

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

const resourceJson = (resource: Resource) => ({
  uri: resource.uri,
  name: resource.name,
  access_token_ttl_seconds: resource.accessTokenTtlSeconds,
  scopes: resource.scopes.map((s) => ({ scope: s.scope, risk: s.risk, description: s.description })),
});

const resourceAdd: CommandSpec = {
  name: 'resource add',
  usage: '--uri URI --name NAME --scope S=RISK [--scope S=RISK …] [--scope-description S=TEXT …] [--ttl SECONDS] [--no-check]',
  summary: `register an MCP server; RISK is one of ${riskClasses.join(' | ')}; --ttl is the access-token lifetime`,
  options: {
    uri: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string', multiple: true },
    'scope-description': { type: 'string', multiple: true },
    ttl: { type: 'string' },
    // Accepted so scripts can pass it today: registration does not fetch the server's protected
    // resource metadata yet, so there is nothing to skip. A later change adds that check.
    'no-check': { type: 'boolean' },
  },
  async run({ db, config }, args) {
    const command = this.name;
    const resource = await addResource(db, {
      uri: args.required('uri'),
      name: args.required('name'),
      scopes: parseScopes(command, args),
      accessTokenTtlSeconds: parseTtl(command, args.string('ttl')),
    }, config.accessTokenTtlSeconds);
    await recordAuditEvent(db, {
      type: 'resource.registered',
      resource: resource.uri,
      scopes: resource.scopes.map((s) => s.scope).join(' '),
      details: { actor: 'cli' },
    });
    const scopeLines = resource.scopes.map((s) => `  ${s.scope} (${s.risk})${s.description ? `: ${s.description}` : ''}`);
    return {
      json: resourceJson(resource),
      text: [`Registered ${resource.uri} (${resource.name}), access tokens live ${resource.accessTokenTtlSeconds} s`,
        'Scopes:', ...scopeLines].join('\n'),
    };
  },
};

const resourceList: CommandSpec = {
  name: 'resource list',
  usage: '',
  summary: 'list registered MCP servers and their scopes',
  options: {},
  async run({ db }) {
    const resources = await listResources(db);
    return {
      json: { resources: resources.map(resourceJson) },
      text: formatTable(
        ['URI', 'NAME', 'TTL', 'SCOPES'],
        resources.map((r) => [r.uri, r.name, `${r.accessTokenTtlSeconds}s`, r.scopes.map((s) => `${s.scope}=${s.risk}`).join(' ')]),
        'No resources registered yet. Register one with: resource add --uri URI --name NAME --scope S=RISK',
      ),
    };
  },
};

export const resourceCommands: CommandSpec[] = [resourceAdd, resourceList];
