// `client add` and `client list`: OAuth clients registered by the operator (confidential ones included,
// which self-registration refuses without the initial access token), and every client's lifecycle.
import { recordAuditEvent } from '../audit/store.ts';
import type { Client } from '../clients/schema.ts';
import type { Queryable } from '../db/db.ts';
import { addIntrospectionClient, addOperatorClient } from '../clients/store.ts';
import { listClientOverview } from '../clients/overview.ts';
import { clientLifecycleCommands } from './client-lifecycle.ts';
import { UsageError, type ParsedArgs } from './args.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import { findResourceByUri } from '../resources/store.ts';
import { formatTable, type CommandSpec } from './command.ts';

// An MCP server checking opaque tokens at /token/introspection: a secret and nothing else.
async function registerIntrospectionClient(db: Queryable, args: ParsedArgs, command: string) {
  if (args.strings('redirect-uri').length > 0) {
    throw new UsageError(`${command}: --introspection registers a client without redirect URIs; drop --redirect-uri`);
  }
  const resource = args.string('resource');
  if (resource === undefined) {
    throw new UsageError(`${command}: --introspection needs --resource URI: the one MCP server whose tokens this client may check`);
  }
  const canonical = tryCanonicalResourceUri(resource);
  if (!canonical || !(await findResourceByUri(db, canonical))) {
    throw new Error(`${command}: resource ${JSON.stringify(resource)} is not registered; register it first with \`resource add\``);
  }
  return addIntrospectionClient(db, { name: args.required('name'), resource: canonical });
}

const clientType = (c: Client) => (c.authMethod === 'none' ? 'public' : c.redirectUris.length === 0 ? 'introspection' : 'confidential');

const clientAdd: CommandSpec = {
  name: 'client add',
  usage: '--name N --redirect-uri U [--redirect-uri U2 …] [--confidential] | --name N --introspection --resource URI',
  summary: 'register a client (public, PKCE only; or --confidential with a client secret); --introspection: '
    + 'a secret and no redirect URIs or grants, for the MCP server at --resource to check its own opaque tokens at the introspection endpoint',
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    confidential: { type: 'boolean' },
    introspection: { type: 'boolean' },
    resource: { type: 'string' },
  },
  async run({ db }, args) {
    const introspection = args.flag('introspection');
    const name = args.required('name');
    const redirectUris = introspection ? [] : args.strings('redirect-uri');
    const confidential = introspection || args.flag('confidential');
    const { clientId, clientSecret } = introspection
      ? await registerIntrospectionClient(db, args, this.name)
      : await addOperatorClient(db, { name, redirectUris, confidential });
    await recordAuditEvent(db, { type: 'client.registered', clientId, details: { actor: 'cli', ...(introspection ? { introspection: true } : {}) } });
    const authMethod = confidential ? 'client_secret_basic' : 'none';
    const kind = introspection ? 'introspection' : confidential ? 'confidential' : 'public';
    const lines = [
      `Registered ${kind} client ${JSON.stringify(name)}`,
      `client_id:     ${clientId}`,
    ];
    if (clientSecret !== undefined) {
      lines.push(
        `client_secret: ${clientSecret}`,
        'The client secret cannot be shown again: store it now. Portcullis keeps only its SHA-256 digest.',
      );
    }
    return {
      json: {
        client_id: clientId,
        ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
        client_name: name.trim(),
        redirect_uris: redirectUris,
        token_endpoint_auth_method: authMethod,
        ...(introspection ? { grant_types: [] } : {}),
      },
      text: lines.join('\n'),
    };
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
      json: {
        clients: clients.map((c) => ({
          client_id: c.clientId,
          client_name: c.name ?? null,
          redirect_uris: c.redirectUris,
          token_endpoint_auth_method: c.authMethod,
          source: c.source,
          status: c.status,
          client_id_issued_at: c.issuedAt ? Math.floor(c.issuedAt.getTime() / 1000) : null,
          first_seen_at: c.firstSeenAt?.toISOString() ?? null,
          last_used_at: c.lastUsedAt?.toISOString() ?? null,
          grants: c.grants,
        })),
      },
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
