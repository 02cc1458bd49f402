// `client add` and `client list`: OAuth clients registered by the operator (confidential ones included,
// which self-registration refuses without the initial access token), and every client's lifecycle.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { clientJson, registeredClientJson } from '../clients/json.ts';
import type { Client } from '../clients/schema.ts';
import { listClientOverview, registerClient, type RegisterClientInput } from '../clients/service.ts';
import { clientLifecycleCommands } from './client-lifecycle.ts';
import { UsageError, type ParsedArgs } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

/** The command line as the service's input; the combinations of options are the CLI's to judge. */
function registrationOf(args: ParsedArgs, command: string): RegisterClientInput {
  const name = args.required('name');
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

const clientType = (c: Client) => (c.authMethod === 'none' ? 'public' : c.redirectUris.length === 0 ? 'introspection' : 'confidential');

const clientAdd: CommandSpec = {
  name: 'client add',
  usage: '--name N --redirect-uri U [--redirect-uri U2 …] [--confidential] | --name N --introspection --resource URI',
  summary: 'register a client (public, PKCE only; or --confidential with a client secret); --introspection: '
    + 'a secret and no redirect URIs, for the MCP server at --resource to check its own opaque tokens at the introspection endpoint '
    + 'and exchange them for downstream tokens along the chains `resource allow-exchange` allows (RFC 8693)',
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    confidential: { type: 'boolean' },
    introspection: { type: 'boolean' },
    resource: { type: 'string' },
  },
  async run({ db }, args) {
    const client = await registerClient(db, registrationOf(args, this.name), CLI_OPERATOR);
    const lines = [
      `Registered ${client.kind} client ${JSON.stringify(client.name)}`,
      `client_id:     ${client.clientId}`,
    ];
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
        ['CLIENT_ID', 'NAME', 'TYPE', 'SOURCE', 'STATUS', 'FIRST_SEEN', 'LAST_USED', 'GRANTS', 'REDIRECT_URIS'],
        clients.map((c) => [c.clientId, c.name ?? '', clientType(c), c.source, c.status,
          when(c.firstSeenAt, '-'), when(c.lastUsedAt, 'never'), String(c.grants), c.redirectUris.join(' ')]),
        'No clients registered yet. Register one with: client add --name N --redirect-uri U',
      ),
    };
  },
};

export const clientCommands: CommandSpec[] = [clientAdd, clientList, ...clientLifecycleCommands];
