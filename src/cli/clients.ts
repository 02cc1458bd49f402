// `client add` and `client list`: OAuth clients registered by the operator (confidential ones
// included, which self-registration refuses). A confidential client's secret is shown once, here.
import { recordAuditEvent } from '../audit/store.ts';
import { addOperatorClient, listClients } from '../clients/store.ts';
import { formatTable, type CommandSpec } from './command.ts';

const clientAdd: CommandSpec = {
  name: 'client add',
  usage: '--name N --redirect-uri U [--redirect-uri U2 …] [--confidential]',
  summary: 'register a client (public, PKCE only; or --confidential with a client secret)',
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    confidential: { type: 'boolean' },
  },
  async run({ db }, args) {
    const name = args.required('name');
    const redirectUris = args.strings('redirect-uri');
    const confidential = args.flag('confidential');
    const { clientId, clientSecret } = await addOperatorClient(db, { name, redirectUris, confidential });
    await recordAuditEvent(db, { type: 'client.registered', clientId, details: { actor: 'cli' } });
    const authMethod = confidential ? 'client_secret_basic' : 'none';
    const lines = [
      `Registered ${confidential ? 'confidential' : 'public'} client ${JSON.stringify(name)}`,
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
      },
      text: lines.join('\n'),
    };
  },
};

const clientList: CommandSpec = {
  name: 'client list',
  usage: '',
  summary: 'list clients, operator-registered and self-registered',
  options: {},
  async run({ db }) {
    const clients = await listClients(db);
    return {
      json: {
        clients: clients.map((c) => ({
          client_id: c.clientId,
          client_name: c.name ?? null,
          redirect_uris: c.redirectUris,
          token_endpoint_auth_method: c.authMethod,
          source: c.source ?? null,
          client_id_issued_at: c.issuedAt ? Math.floor(c.issuedAt.getTime() / 1000) : null,
        })),
      },
      text: formatTable(
        ['CLIENT_ID', 'NAME', 'TYPE', 'SOURCE', 'REDIRECT_URIS'],
        clients.map((c) => [c.clientId, c.name ?? '', c.authMethod === 'none' ? 'public' : 'confidential',
          c.source ?? '', c.redirectUris.join(' ')]),
        'No clients registered yet. Register one with: client add --name N --redirect-uri U',
      ),
    };
  },
};

export const clientCommands: CommandSpec[] = [clientAdd, clientList];
