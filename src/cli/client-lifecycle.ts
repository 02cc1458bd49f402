// `client disable`, `client enable` and `client delete`: an operator's say over registered clients.
// Disabling or deleting ends the client's grants; each change is recorded in the audit trail.
import { recordAuditEvent } from '../audit/store.ts';
import { deleteClient, disableClient, enableClient } from '../clients/lifecycle.ts';
import type { CommandSpec } from './command.ts';

const idOption = { id: { type: 'string' } } as const;

// Access tokens are self-contained JWTs: nothing can recall one, so say how long they live on.
const JWT_NOTE = 'Access tokens already issued stay valid until they expire (ACCESS_TOKEN_TTL_SECONDS, 5 minutes by default).';

const clientDisable: CommandSpec = {
  name: 'client disable',
  usage: '--id CLIENT_ID',
  summary: 'refuse the client\'s authorizations and token requests (invalid_client) and end its grants; undo with client enable',
  options: idOption,
  async run({ db }, args) {
    const clientId = args.required('id');
    const { changed, grantsRevoked } = await disableClient(db, clientId);
    if (changed) {
      await recordAuditEvent(db, { type: 'client.disabled', clientId, details: { actor: 'cli', grants_revoked: grantsRevoked } });
    }
    return {
      json: { client_id: clientId, status: 'disabled', changed, grants_revoked: grantsRevoked },
      text: changed
        ? [`Disabled client ${clientId}: its authorizations and token requests are refused.`,
          `Ended ${grantsRevoked} grant(s) and their refresh tokens. ${JWT_NOTE}`].join('\n')
        : `Client ${clientId} was already disabled.`,
    };
  },
};

const clientEnable: CommandSpec = {
  name: 'client enable',
  usage: '--id CLIENT_ID',
  summary: 'let a disabled client in again (the grants that disabling ended stay ended)',
  options: idOption,
  async run({ db }, args) {
    const clientId = args.required('id');
    const { changed } = await enableClient(db, clientId);
    if (changed) await recordAuditEvent(db, { type: 'client.enabled', clientId, details: { actor: 'cli' } });
    return {
      json: { client_id: clientId, status: 'active', changed },
      text: changed
        ? `Enabled client ${clientId}. People approve it again on its next authorization.`
        : `Client ${clientId} was not disabled.`,
    };
  },
};

const clientDelete: CommandSpec = {
  name: 'client delete',
  usage: '--id CLIENT_ID',
  summary: 'delete the client with its grants and tokens; it gets invalid_client and must register again',
  options: idOption,
  async run({ db }, args) {
    const clientId = args.required('id');
    const { grantsRevoked } = await deleteClient(db, clientId);
    await recordAuditEvent(db, { type: 'client.deleted', clientId, details: { actor: 'cli', grants_revoked: grantsRevoked } });
    return {
      json: { client_id: clientId, deleted: true, grants_revoked: grantsRevoked },
      text: `Deleted client ${clientId} and ${grantsRevoked} grant(s) with their refresh tokens. ${JWT_NOTE}`,
    };
  },
};

export const clientLifecycleCommands: CommandSpec[] = [clientDisable, clientEnable, clientDelete];
