// The registered clients' one wire form, for the CLI's --json and the admin API alike: snake_case names
// (RFC 7591's where it has one), ISO dates, null for none. Never a secret digest; a new secret only once.
import { TOKEN_EXCHANGE_GRANT } from './token-exchange-grant.ts';
import type { ClientOverview } from './overview.ts';
import type { ClientDeletion, ClientStatusChange, RegisteredClient } from './service.ts';

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

/** A machine client's binding (0020): the one resource its tokens name and the scopes it may ask for. */
const machineJson = (machine: NonNullable<RegisteredClient['machine']>) => ({
  grant_types: ['client_credentials'], resource: machine.resource, scope: machine.scopes.join(' '), allow_irreversible: machine.allowIrreversible,
});

/** A client just registered, with its secret (the one time it is shown); an introspection client has only the token exchange (RFC 8693). */
export const registeredClientJson = (client: RegisteredClient) => ({
  client_id: client.clientId,
  ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }),
  client_name: client.name,
  redirect_uris: client.redirectUris,
  token_endpoint_auth_method: client.authMethod,
  ...(client.kind === 'introspection' ? { grant_types: [TOKEN_EXCHANGE_GRANT] } : {}),
  ...(client.machine ? machineJson(client.machine) : {}),
});

/** A client in a listing: where its identity comes from, its status, when first seen and last used, its grants and replays; a machine client's binding. */
export const clientJson = (client: ClientOverview) => ({
  client_id: client.clientId,
  client_name: client.name ?? null,
  source: client.source,
  status: client.status,
  token_endpoint_auth_method: client.authMethod,
  redirect_uris: client.redirectUris,
  client_id_issued_at: client.issuedAt ? Math.floor(client.issuedAt.getTime() / 1000) : null,
  first_seen_at: iso(client.firstSeenAt),
  last_used_at: iso(client.lastUsedAt),
  grants: client.grants,
  replays_last_30_days: client.replaysLast30Days,
  ...(client.machine ? machineJson(client.machine) : {}),
});

/** A disable or enable: `grants_revoked` only for a disable (enabling ends nothing). */
export const clientStatusJson = (change: ClientStatusChange) => ({
  client_id: change.clientId,
  status: change.status,
  changed: change.changed,
  ...(change.status === 'disabled' ? { grants_revoked: change.grantsRevoked } : {}),
});

export const clientDeletionJson = (deletion: ClientDeletion) => ({ client_id: deletion.clientId, deleted: true, grants_revoked: deletion.grantsRevoked });
