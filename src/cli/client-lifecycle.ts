// `client disable`, `client enable` and `client delete`: an operator's say over registered clients, through
// the clients service (src/clients/service.ts), which ends grants and audits each change.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { clientDeletionJson, clientStatusJson } from '../clients/json.ts';
import { removeClient, setClientEnabled } from '../clients/service.ts';
import type { CommandSpec } from './command.ts';

const idOption = { id: { type: 'string' } } as const;

// Access tokens are self-contained JWTs: nothing can recall one, so say how long they live on.
const JWT_NOTE = 'Access tokens already issued stay valid until they expire (ACCESS_TOKEN_TTL_SECONDS, 5 minutes by default).';

const statusCommand = (enabled: boolean): CommandSpec => ({
  name: enabled ? 'client enable' : 'client disable',
  usage: '--id CLIENT_ID',
  summary: enabled
    ? 'let a disabled client in again (the grants that disabling ended stay ended)'
    : 'refuse the client\'s authorizations and token requests (invalid_client) and end its grants; undo with client enable',
  options: idOption,
  async run({ db }, args) {
    const change = await setClientEnabled(db, args.required('id'), enabled, CLI_OPERATOR);
    const { clientId } = change;
    const text = !change.changed
      ? `Client ${clientId} was ${enabled ? 'not disabled' : 'already disabled'}.`
      : enabled
        ? `Enabled client ${clientId}. People approve it again on its next authorization.`
        : [`Disabled client ${clientId}: its authorizations and token requests are refused.`,
          `Ended ${change.grantsRevoked} grant(s) and their refresh tokens. ${JWT_NOTE}`].join('\n');
    return { json: clientStatusJson(change), text };
  },
});

const clientDelete: CommandSpec = {
  name: 'client delete',
  usage: '--id CLIENT_ID',
  summary: 'delete the client with its grants and tokens; it gets invalid_client and must register again',
  options: idOption,
  async run({ db }, args) {
    const deletion = await removeClient(db, args.required('id'), CLI_OPERATOR);
    return {
      json: clientDeletionJson(deletion),
      text: `Deleted client ${deletion.clientId} and ${deletion.grantsRevoked} grant(s) with their refresh tokens. ${JWT_NOTE}`,
    };
  },
};

export const clientLifecycleCommands: CommandSpec[] = [statusCommand(false), statusCommand(true), clientDelete];
