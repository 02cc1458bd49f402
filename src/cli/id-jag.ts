// `idjag-issuer add|list|remove`: the identity providers trusted to sign ID-JAGs (MCP Enterprise-Managed
// Authorization). Parses and renders only; src/id-jag/service.ts validates and audits.
import { readFile } from 'node:fs/promises';
import { CLI_OPERATOR } from '../audit/operator.ts';
import {
  addIdJagIssuer, allowClientIdJag, allowIrreversibleIdJagScopes, denyIrreversibleIdJagScopes, idJagIssuerJson, linkIdJagSubject,
  listIrreversibleIdJagResources, listTrustedIdJagIssuers, removeIdJagIssuer,
} from '../id-jag/service.ts';
import { JWT_BEARER_GRANT } from '../id-jag/schema.ts';
import { UsageError } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

const MAX_JWKS_FILE = 256 * 1024;

async function readJwksFile(path: string): Promise<unknown> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (error) {
    throw new UsageError(`cannot read --jwks ${path}: ${(error as Error).message}`);
  }
  if (text.length > MAX_JWKS_FILE) throw new UsageError(`--jwks ${path} is larger than ${MAX_JWKS_FILE} bytes`);
  try { return JSON.parse(text); } catch { throw new UsageError(`--jwks ${path} is not JSON`); }
}

const idJagIssuerAdd: CommandSpec = {
  name: 'idjag-issuer add',
  usage: '--issuer URL (--jwks-uri URL | --jwks FILE)',
  summary: 'trust an identity provider to sign ID-JAG assertions (jwt-bearer grant)',
  options: { issuer: { type: 'string' }, 'jwks-uri': { type: 'string' }, jwks: { type: 'string' } },
  async run({ db }, args) {
    const jwksFile = args.string('jwks');
    const { record, created } = await addIdJagIssuer(db, {
      issuer: args.required('issuer'),
      jwksUri: args.string('jwks-uri'),
      jwks: jwksFile === undefined ? undefined : await readJwksFile(jwksFile),
    }, CLI_OPERATOR);
    return {
      json: { ...idJagIssuerJson(record), created },
      text: `${created ? 'Trusted' : 'Updated'} ID-JAG issuer ${record.issuer} (keys: ${record.jwksUri ?? `${record.jwks?.keys.length} in a JWKS file`}).`,
    };
  },
};

const idJagIssuerList: CommandSpec = {
  name: 'idjag-issuer list',
  usage: '',
  summary: 'list the identity providers trusted to sign ID-JAG assertions',
  options: {},
  async run({ db }) {
    const issuers = await listTrustedIdJagIssuers(db);
    return {
      json: { issuers: issuers.map(idJagIssuerJson) },
      text: formatTable(
        ['ISSUER', 'KEYS', 'ADDED'],
        issuers.map((i) => [i.issuer, i.jwksUri ?? `${i.jwks?.keys.length} keys (file)`, i.createdAt.toISOString()]),
        'No trusted ID-JAG issuers. Add one with: idjag-issuer add --issuer URL --jwks-uri URL',
      ),
    };
  },
};

const idJagIssuerRemove: CommandSpec = {
  name: 'idjag-issuer remove',
  usage: '--issuer URL',
  summary: 'stop trusting an ID-JAG issuer at once',
  options: { issuer: { type: 'string' } },
  async run({ db }, args) {
    const issuer = args.required('issuer');
    await removeIdJagIssuer(db, issuer, CLI_OPERATOR);
    return { json: { issuer, status: 'removed' }, text: `Removed ID-JAG issuer ${issuer}.` };
  },
};

const idJagIssuerLink: CommandSpec = {
  name: 'idjag-issuer link',
  usage: '--issuer URL --subject SUB --account ID',
  summary: 'link the person an issuer calls SUB (the assertion\'s sub) to a local account',
  options: { issuer: { type: 'string' }, subject: { type: 'string' }, account: { type: 'string' } },
  async run({ db }, args) {
    const link = { issuer: args.required('issuer'), subject: args.required('subject'), accountId: args.required('account') };
    await linkIdJagSubject(db, link, CLI_OPERATOR);
    return { json: { issuer: link.issuer, subject: link.subject, account_id: link.accountId }, text: `Linked ${link.subject} at ${link.issuer} to account ${link.accountId}.` };
  },
};

const idJagClientAllow: CommandSpec = {
  name: 'idjag-client allow',
  usage: '--id CLIENT_ID',
  summary: 'let a confidential client exchange ID-JAGs (adds the jwt-bearer grant to its grant_types)',
  options: { id: { type: 'string' } },
  async run({ db }, args) {
    const id = args.required('id');
    await allowClientIdJag(db, id, CLI_OPERATOR);
    return { json: { client_id: id, grant_type_added: JWT_BEARER_GRANT }, text: `Client ${id} may now use the jwt-bearer grant.` };
  },
};

const idJagResourceAllowIrreversible: CommandSpec = {
  name: 'idjag-resource allow-irreversible',
  usage: '--resource URI',
  summary: 'let the jwt-bearer grant carry this resource\'s irreversible scopes when an ID-JAG grants them (off by default)',
  options: { resource: { type: 'string' } },
  async run({ db }, args) {
    const outcome = await allowIrreversibleIdJagScopes(db, args.required('resource'), CLI_OPERATOR);
    const scopes = outcome.scopes.length > 0 ? outcome.scopes.join(' ') : 'none declared yet';
    return {
      json: { resource: outcome.resourceUri, irreversible_via_id_jag: true, scopes: outcome.scopes, changed: outcome.changed },
      text: `${outcome.changed ? 'ID-JAGs may now grant' : 'ID-JAGs could already grant'} the irreversible scopes of ${outcome.resourceUri} (${scopes}); such tokens live five minutes at most.`,
    };
  },
};

const idJagResourceDenyIrreversible: CommandSpec = {
  name: 'idjag-resource deny-irreversible',
  usage: '--resource URI',
  summary: 'back to the default: the jwt-bearer grant never carries this resource\'s irreversible scopes',
  options: { resource: { type: 'string' } },
  async run({ db }, args) {
    const outcome = await denyIrreversibleIdJagScopes(db, args.required('resource'), CLI_OPERATOR);
    return {
      json: { resource: outcome.resourceUri, irreversible_via_id_jag: false, changed: outcome.changed },
      text: `${outcome.changed ? 'ID-JAGs no longer grant' : 'ID-JAGs did not grant'} the irreversible scopes of ${outcome.resourceUri}.`,
    };
  },
};

const idJagResourceList: CommandSpec = {
  name: 'idjag-resource list',
  usage: '',
  summary: 'list the resources whose irreversible scopes the jwt-bearer grant may carry',
  options: {},
  async run({ db }) {
    const rows = await listIrreversibleIdJagResources(db);
    return {
      json: { resources: rows.map((r) => ({ resource: r.resourceUri, allowed_at: r.allowedAt.toISOString() })) },
      text: formatTable(['RESOURCE', 'ALLOWED'], rows.map((r) => [r.resourceUri, r.allowedAt.toISOString()]),
        'No resource lets irreversible scopes through ID-JAGs (the default).'),
    };
  },
};

export const idJagCommands: CommandSpec[] = [
  idJagIssuerAdd, idJagIssuerList, idJagIssuerRemove, idJagIssuerLink, idJagClientAllow,
  idJagResourceAllowIrreversible, idJagResourceDenyIrreversible, idJagResourceList,
];
