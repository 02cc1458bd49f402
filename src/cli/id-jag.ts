// `idjag-issuer add|list|remove`: the identity providers trusted to sign ID-JAGs (MCP Enterprise-Managed
// Authorization). Parses and renders only; src/id-jag/service.ts validates and audits.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { addIdJagIssuer, allowClientIdJag, idJagIssuerJson, linkIdJagSubject, listTrustedIdJagIssuers, removeIdJagIssuer } from '../id-jag/service.ts';
import { JWT_BEARER_GRANT } from '../id-jag/schema.ts';
import { UsageError } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';
import { readJwksFile } from './jwks-file.ts';

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

export const idJagCommands: CommandSpec[] = [idJagIssuerAdd, idJagIssuerList, idJagIssuerRemove, idJagIssuerLink, idJagClientAllow];
