// SQL for machine clients: the oidc-provider client row (grant type client_credentials only, no redirect
// URIs) and its binding in machine_clients (0020), written in the caller's transaction.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.ts';
import type { MachineAuthMethod, MachineBinding, ParsedMachineClient } from './machine-schema.ts';
import { digestClientSecret, generateClientSecret } from './secret.ts';

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

/** Inserts the client and its binding; the secret (no keys given) is returned in plain text, the one time it exists here. */
export async function insertMachineClient(
  tx: Queryable, client: ParsedMachineClient,
): Promise<{ clientId: string; clientSecret?: string; authMethod: MachineAuthMethod }> {
  const clientId = randomUUID();
  const keyed = client.jwks !== undefined || client.jwksUri !== undefined;
  const authMethod: MachineAuthMethod = keyed ? 'private_key_jwt' : 'client_secret_basic';
  const clientSecret = keyed ? undefined : generateClientSecret();
  const payload = {
    client_id: clientId,
    client_name: client.name,
    redirect_uris: [],
    // The only grant it may use: oidc-provider answers unauthorized_client to any other.
    grant_types: [CLIENT_CREDENTIALS_GRANT],
    response_types: [],
    token_endpoint_auth_method: authMethod,
    client_id_issued_at: Math.floor(Date.now() / 1000),
    portcullis_source: 'operator',
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
    // Compared by the provider's compareClientSecret override (provider.ts), never in plain text.
    ...(clientSecret === undefined ? {} : { client_secret: digestClientSecret(clientSecret) }),
  };
  await tx.query(`INSERT INTO oidc_models (model, id, payload) VALUES ('Client', $1, $2)`, [clientId, JSON.stringify(payload)]);
  await tx.query(
    'INSERT INTO machine_clients (client_id, resource_uri, scopes, allow_irreversible) VALUES ($1, $2, $3, $4)',
    [clientId, client.resource, client.scopes, client.allowIrreversible],
  );
  return clientSecret === undefined ? { clientId, authMethod } : { clientId, clientSecret, authMethod };
}

type BindingRow = { client_id: string; resource_uri: string; scopes: string[]; allow_irreversible: boolean };
const toBinding = (row: BindingRow): MachineBinding => ({
  clientId: row.client_id, resource: row.resource_uri, scopes: row.scopes, allowIrreversible: row.allow_irreversible,
});

/** The binding of one machine client, or undefined (not a machine client, or its resource was deleted). */
export async function findMachineBinding(db: Queryable, clientId: string): Promise<MachineBinding | undefined> {
  const { rows } = await db.query<BindingRow>(
    'SELECT client_id, resource_uri, scopes, allow_irreversible FROM machine_clients WHERE client_id = $1', [clientId]);
  return rows[0] ? toBinding(rows[0]) : undefined;
}

/** Every binding, by client id (for the clients overview). */
export async function listMachineBindings(db: Queryable): Promise<Map<string, MachineBinding>> {
  const { rows } = await db.query<BindingRow>('SELECT client_id, resource_uri, scopes, allow_irreversible FROM machine_clients');
  return new Map(rows.map((row) => [row.client_id, toBinding(row)]));
}

/** Removes the bindings of deleted clients (the lifecycle's removeClientRemains has no reason to know them). */
export async function deleteMachineBindings(tx: Queryable, clientIds: readonly string[]): Promise<void> {
  if (clientIds.length > 0) await tx.query('DELETE FROM machine_clients WHERE client_id = ANY($1::text[])', [clientIds]);
}
