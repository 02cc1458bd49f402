// `client add` and `client list`: OAuth clients registered by the operator (confidential ones included,
// which self-registration refuses without the initial access token), and every client's lifecycle.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { clientJson, registeredClientJson } from '../clients/json.ts';
import type { Client } from '../clients/schema.ts';
import { listClientOverview, registerClient, type RegisterClientInput } from '../clients/service.ts';
import { clientLifecycleCommands } from './client-lifecycle.ts';
import { UsageError, type ParsedArgs } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';
import { readJwksFile } from './jwks-file.ts';

const MACHINE_ONLY = ['scope', 'jwks', 'jwks-uri'] as const;

/** `--machine`: client_credentials for one resource (SEP-1046); keys from --jwks FILE or --jwks-uri, else a secret. */
async function machineRegistrationOf(args: ParsedArgs, command: string, name: string): Promise<RegisterClientInput> {
  if (args.strings('redirect-uri').length > 0 || args.flag('confidential') || args.flag('introspection')) {
    throw new UsageError(`${command}: --machine registers a client that acts as itself: drop --redirect-uri, --confidential and --introspection`);
  }
  const resource = args.string('resource');
  if (resource === undefined) throw new UsageError(`${command}: --machine needs --resource URI: the one MCP server its tokens are for`);
  // `--scope a --scope b` or `--scope "a b"`, as a token request's scope is written.
  const scopes = args.strings('scope').flatMap((value) => value.split(' ')).filter(Boolean);
  if (scopes.length === 0) throw new UsageError(`${command}: --machine needs --scope S (repeatable): the scopes this client may ask for`);
  const jwksFile = args.string('jwks');
  const jwksUri = args.string('jwks-uri');
  if (jwksFile !== undefined && jwksUri !== undefined) throw new UsageError(`${command}: give --jwks FILE or --jwks-uri URL, not both`);
  return {
    kind: 'machine', name, resource, scopes, allowIrreversible: args.flag('allow-irreversible'),
    jwks: jwksFile === undefined ? undefined : await readJwksFile(jwksFile), jwksUri,
  };
}

/** The command line as the service's input; the combinations of options are the CLI's to judge. */
async function registrationOf(args: ParsedArgs, command: string): Promise<RegisterClientInput> {
  const name = args.required('name');
  if (args.flag('machine')) return machineRegistrationOf(args, command, name);
  const stray = MACHINE_ONLY.filter((option) => args.strings(option).length > 0);
  if (stray.length > 0 || args.flag('allow-irreversible')) {
    throw new UsageError(`${command}: --${stray[0] ?? 'allow-irreversible'} is for machine clients: add --machine`);
  }
  if (!args.flag('introspection')) {
    return { kind: args.flag('confidential') ? 'confidential' : 'public', name, redirectUris: args.strings('redirect-uri') };
  }
  // An MCP server checking opaque tokens at /token/introspection: a secret and nothing else.
  if (args.strings('redirect-uri').length > 0) {
    throw new UsageError(`${command}: --introspection registers a client without redirect URIs; drop --redirect-uri`);
  }
  const resource = args.string('resource');
  if (resource === undefined) {
    throw new UsageError(`${command}: --introspection needs --resource URI: the one MCP server whose tokens this client may check`);
  }
  return { kind: 'introspection', name, resource };
}

const clientType = (c: Client & { machine?: unknown }) => (c.machine ? 'machine'
  : c.authMethod === 'none' ? 'public' : c.redirectUris.length === 0 ? 'introspection' : 'confidential');

const clientAdd: CommandSpec = {
  name: 'client add',
  usage: '--name N --redirect-uri U [--redirect-uri U2 …] [--confidential] | --name N --introspection --resource URI'
    + ' | --name N --machine --resource URI --scope S [--scope S2 …] [--jwks-uri URL | --jwks FILE] [--allow-irreversible]',
  summary: 'register a client (public, PKCE only; or --confidential with a client secret); --introspection: '
    + 'a secret and no redirect URIs, for the MCP server at --resource to check its own opaque tokens at the introspection endpoint '
    + 'and exchange them for downstream tokens along the chains `resource allow-exchange` allows (RFC 8693); '
    + '--machine: a client acting as itself (client_credentials) for --resource with at most the --scope values, '
    + 'private_key_jwt with its public keys (--jwks/--jwks-uri) or else a client secret; irreversible scopes only with --allow-irreversible',
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    confidential: { type: 'boolean' },
    introspection: { type: 'boolean' },
    resource: { type: 'string' },
    machine: { type: 'boolean' },
    scope: { type: 'string', multiple: true },
    jwks: { type: 'string' },
    'jwks-uri': { type: 'string' },
    'allow-irreversible': { type: 'boolean' },
  },
  async run({ db }, args) {
    const client = await registerClient(db, await registrationOf(args, this.name), CLI_OPERATOR);
    const lines = [
      `Registered ${client.kind} client ${JSON.stringify(client.name)}`,
      `client_id:     ${client.clientId}`,
    ];
    if (client.machine) {
      lines.push(
        `resource:      ${client.machine.resource}`,
        `scope:         ${client.machine.scopes.join(' ')}${client.machine.allowIrreversible ? ' (irreversible scopes allowed)' : ''}`,
        `auth method:   ${client.authMethod}`,
      );
    }
    if (client.clientSecret !== undefined) {
      lines.push(
        `client_secret: ${client.clientSecret}`,
        'The client secret cannot be shown again: store it now. Portcullis keeps only its SHA-256 digest.',
      );
    }
    return { json: registeredClientJson(client), text: lines.join('\n') };
  },
};

// Minutes are enough to tell "just now" from "last week"; UTC so operators in several zones agree.
const when = (date: Date | undefined, none: string) => (date ? date.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z') : none);

const clientList: CommandSpec = {
  name: 'client list',
  usage: '',
  summary: 'list clients (operator-registered, self-registered, metadata documents) with status, first seen, last used and grants',
  options: {},
  async run({ db }) {
    const clients = await listClientOverview(db);
    return {
      json: { clients: clients.map(clientJson) },
      text: formatTable(
        // A machine client has no redirect URIs: its column shows the resource and scopes it is bound to.
        ['CLIENT_ID', 'NAME', 'TYPE', 'SOURCE', 'STATUS', 'FIRST_SEEN', 'LAST_USED', 'GRANTS', 'REDIRECT_URIS'],
        clients.map((c) => [c.clientId, c.name ?? '', clientType(c), c.source, c.status,
          when(c.firstSeenAt, '-'), when(c.lastUsedAt, 'never'), String(c.grants),
          c.machine ? `${c.machine.resource} scope=${c.machine.scopes.join(',')}` : c.redirectUris.join(' ')]),
        'No clients registered yet. Register one with: client add --name N --redirect-uri U',
      ),
    };
  },
};

export const clientCommands: CommandSpec[] = [clientAdd, clientList, ...clientLifecycleCommands];
