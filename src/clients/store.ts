// SQL for OAuth clients. They live in `oidc_models` as model 'Client' with oidc-provider's own
// (snake_case) metadata as payload, because that is where oidc-provider's adapter looks them up.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Queryable } from '../db/db.ts';
import { digestClientSecret, generateClientSecret } from '../oidc/client-secret.ts';
import { isLoopbackHttpUri } from '../oidc/registration-policy.ts';

// The same redirect URI rules as self-registration (registration-policy.ts): an operator typo should
// not open a hole an attacker could not open themselves. OAuth 2.1 §2.3.1, RFC 8252 §7.3.
const redirectUriSchema = z.string().superRefine((uri, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: 'custom', message: `redirect URI ${uri}: ${message}` });
  const url = URL.parse(uri);
  if (!url) return fail('must be an absolute URI');
  if (uri.includes('#')) return fail('must not contain a fragment');
  if (uri.includes('*')) return fail('must not contain a wildcard');
  if (url.protocol !== 'https:' && !isLoopbackHttpUri(uri)) {
    return fail('must use https, or http on a loopback address (127.0.0.1, [::1], localhost)');
  }
});

const newOperatorClientSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  redirectUris: z.array(redirectUriSchema).min(1, 'declare at least one redirect URI')
    .refine((uris) => new Set(uris).size === uris.length, 'redirect URIs must be unique'),
  confidential: z.boolean().default(false),
});
export type NewOperatorClient = z.input<typeof newOperatorClientSchema>;

/** What callers may see of a client; the secret digest never leaves this file. */
export interface Client {
  clientId: string;
  name: string | undefined;
  redirectUris: string[];
  /** token_endpoint_auth_method; 'none' is a public client. */
  authMethod: string;
  /** 'operator' (CLI), 'dynamic_registration' (RFC 7591), or undefined for older rows. */
  source: string | undefined;
  issuedAt: Date | undefined;
}

// The payload is JSON written by us or by oidc-provider: parse what we show, let the rest pass.
// The default auth method matches clientDefaults in provider.ts.
const storedClientSchema = z.object({
  client_id: z.string(),
  client_name: z.string().optional(),
  redirect_uris: z.array(z.string()).default([]),
  token_endpoint_auth_method: z.string().default('none'),
  portcullis_source: z.string().optional(),
  client_id_issued_at: z.number().optional(),
});

function toClient(payload: unknown): Client {
  const stored = storedClientSchema.parse(payload);
  return {
    clientId: stored.client_id,
    name: stored.client_name,
    redirectUris: stored.redirect_uris,
    authMethod: stored.token_endpoint_auth_method,
    source: stored.portcullis_source,
    issuedAt: stored.client_id_issued_at === undefined ? undefined : new Date(stored.client_id_issued_at * 1000),
  };
}

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
    // Compared by the provider's compareClientSecret override (provider.ts), never in plain text.
    ...(clientSecret === undefined ? {} : { client_secret: digestClientSecret(clientSecret) }),
  };
  await db.query(
    `INSERT INTO oidc_models (model, id, payload) VALUES ('Client', $1, $2)`,
    [clientId, JSON.stringify(payload)],
  );
  return clientSecret === undefined ? { clientId } : { clientId, clientSecret };
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
