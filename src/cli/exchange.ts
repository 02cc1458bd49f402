// `resource allow-exchange`, `resource deny-exchange` and `resource exchanges`: the token-exchange chains
// (RFC 8693) an operator allows, through the exchange service (src/exchange/service.ts).
import { CLI_OPERATOR } from '../audit/operator.ts';
import { allowExchange, denyExchange, listExchanges, type ExchangeChain } from '../exchange/service.ts';
import { formatTable, type CommandSpec } from './command.ts';

const chainJson = (chain: ExchangeChain) => ({ from: chain.fromUri, to: chain.toUri, scopes: chain.scopes, created_at: chain.createdAt.toISOString() });

const allow: CommandSpec = {
  name: 'resource allow-exchange',
  usage: '--from URI --to URI --scope S [--scope S …]',
  summary: 'let the MCP server at --from exchange a person\'s token for one to --to (RFC 8693 token exchange) '
    + 'with at most these scopes (declared by --to, never irreversible); again on the same chain replaces its scopes',
  options: { from: { type: 'string' }, to: { type: 'string' }, scope: { type: 'string', multiple: true } },
  async run({ db }, args) {
    const chain = await allowExchange(db, { from: args.required('from'), to: args.required('to'), scopes: args.strings('scope') }, CLI_OPERATOR);
    return { json: { exchange: chainJson(chain) }, text: `Allowed ${chain.fromUri} to exchange tokens for ${chain.toUri} with ${chain.scopes.join(' ')}` };
  },
};

const deny: CommandSpec = {
  name: 'resource deny-exchange',
  usage: '--from URI --to URI',
  summary: 'remove the chain --from → --to: the MCP server at --from can no longer exchange tokens for --to',
  options: { from: { type: 'string' }, to: { type: 'string' } },
  async run({ db }, args) {
    const [from, to] = [args.required('from'), args.required('to')];
    await denyExchange(db, { from, to }, CLI_OPERATOR);
    return { json: { denied: { from, to } }, text: `Denied: ${from} may no longer exchange tokens for ${to}` };
  },
};

const list: CommandSpec = {
  name: 'resource exchanges',
  usage: '[--from URI]',
  summary: 'list the allowed token-exchange chains (all, or those from one resource)',
  options: { from: { type: 'string' } },
  async run({ db }, args) {
    const chains = await listExchanges(db, args.string('from'));
    return {
      json: { exchanges: chains.map(chainJson) },
      text: formatTable(['FROM', 'TO', 'SCOPES'], chains.map((c) => [c.fromUri, c.toUri, c.scopes.join(' ')]),
        'No token exchange allowed. Allow one with: resource allow-exchange --from URI --to URI --scope S'),
    };
  },
};

export const exchangeCommands: CommandSpec[] = [allow, deny, list];
