// SQL for OAuth clients. They live in `oidc_models` as model 'Client' with oidc-provider's own
// (snake_case) metadata as payload, because that is where oidc-provider's adapter looks them up.
import { TOKEN_EXCHANGE_GRANT } from './token-exchange-grant.ts';
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.ts';
import { digestClientSecret, generateClientSecret } from './secret.ts';
import { inferApplicationType } from './redirect-uri-rules.ts';
import {
  newIntrospectionClientSchema, newOperatorClientSchema, toClient, type Client, type NewIntrospectionClient, type NewOperatorClient,
} from './schema.ts';

/**
 * Registers a client on the operator's say-so. Returns the client secret in plain text for a
 * confidential client: this is the only time it exists outside the client; we store its digest.
 */
export async function addOperatorClient(
  db: Queryable,
  input: NewOperatorClient,
): Promise<{ clientId: string; clientSecret?: string }> {
  const client = newOperatorClientSchema.parse(input);
  const clientId = randomUUID();
  const clientSecret = client.confidential ? generateClientSecret() : undefined;
  const payload = {
    client_id: clientId,
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: client.confidential ? 'client_secret_basic' : 'none',
    client_id_issued_at: Math.floor(Date.now() / 1000),
    portcullis_source: 'operator',
    // As with self-registration: loopback or private-use redirect URIs make a native app (RFC 8252 §7).
    application_type: inferApplicationType(client.redirectUris),
    // Compared by the provider's compareClientSecret override (provider.ts), never in plain text.
    ...(clientSecret === undefined ? {} : { client_secret: digestClientSecret(clientSecret) }),
  };
  await db.query(
    `INSERT INTO oidc_models (model, id, payload) VALUES ('Client', $1, $2)`,
    [clientId, JSON.stringify(payload)],
  );
  return clientSecret === undefined ? { clientId } : { clientId, clientSecret };
}

/**
 * Registers a client that can do nothing but authenticate to the introspection and revocation
 * endpoints: no grant types, no response types, no redirect URIs. Returns its secret, shown once.
 */
export async function addIntrospectionClient(
  db: Queryable,
  input: NewIntrospectionClient,
): Promise<{ clientId: string; clientSecret: string }> {
  const { name, resource } = newIntrospectionClientSchema.parse(input);
  const clientId = randomUUID();
  const clientSecret = generateClientSecret();
  const payload = {
    client_id: clientId,
    client_name: name,
    redirect_uris: [],
    // The MCP server's own identity: it may exchange the tokens it receives for downstream ones, along
    // the chains the operator allowed (RFC 8693, src/exchange/grant.ts); it is issued nothing else.
    grant_types: [TOKEN_EXCHANGE_GRANT],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    client_id_issued_at: Math.floor(Date.now() / 1000),
    portcullis_source: 'operator',
    portcullis_introspects: resource,
    client_secret: digestClientSecret(clientSecret),
  };
  await db.query(`INSERT INTO oidc_models (model, id, payload) VALUES ('Client', $1, $2)`, [clientId, JSON.stringify(payload)]);
  return { clientId, clientSecret };
}

export async function findClientById(db: Queryable, clientId: string): Promise<Client | undefined> {
  const { rows } = await db.query<{ payload: unknown }>(
    `SELECT payload FROM oidc_models
     WHERE model = 'Client' AND id = $1 AND (expires_at IS NULL OR expires_at > now())`,
    [clientId],
  );
  return rows[0] ? toClient(rows[0].payload) : undefined;
}

/** Every live client, operator-registered and self-registered, oldest first. */
export async function listClients(db: Queryable): Promise<Client[]> {
  const { rows } = await db.query<{ payload: unknown }>(
    `SELECT payload FROM oidc_models
     WHERE model = 'Client' AND (expires_at IS NULL OR expires_at > now())
     ORDER BY (payload->>'client_id_issued_at')::bigint NULLS FIRST, id`,
  );
  return rows.map((row) => toClient(row.payload));
}
