// The registered clients' one service, under the CLI, the console and the admin API: checks their input
// (zod), runs each change in one transaction with its audit event (explicit operator), codes its refusals.
import { z } from 'zod';
import type { Db, Queryable } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { findResourceByUri } from '../resources/store.ts';
import { assertUsableSigningKeys } from './machine-keys.ts';
import { newMachineClientSchema, type MachineAuthMethod, type MachineBinding } from './machine-schema.ts';
import { insertMachineClient } from './machine-store.ts';
import { ClientNotFoundError, deleteClient, disableClient, enableClient } from './lifecycle.ts';
import { listClientOverview, type ClientOverview } from './overview.ts';
import { newIntrospectionClientSchema, newOperatorClientSchema } from './schema.ts';
import { addIntrospectionClient, addOperatorClient } from './store.ts';

export { listClientOverview, type ClientOverview };

/**
 * What an operator registers: a public client (PKCE only), a confidential one (with a secret), an
 * introspection client (a secret and nothing else, for the one MCP server at `resource`; RFC 7662 §2.1),
 * or a machine client (client_credentials for one resource, acting as itself: MCP ext-auth SEP-1046).
 */
export const registerClientInput = z.discriminatedUnion('kind', [
  newOperatorClientSchema.omit({ confidential: true }).extend({ kind: z.enum(['public', 'confidential']) }),
  newIntrospectionClientSchema.extend({ kind: z.literal('introspection') }),
  newMachineClientSchema.extend({ kind: z.literal('machine') }),
]);
export type RegisterClientInput = z.input<typeof registerClientInput>;
export type ClientKind = RegisterClientInput['kind'];

export interface RegisteredClient {
  clientId: string;
  /** Shown once: Portcullis keeps only its SHA-256 digest. */
  clientSecret: string | undefined;
  kind: ClientKind;
  name: string;
  redirectUris: string[];
  /** token_endpoint_auth_method: none (public), client_secret_basic, or a machine client's own. */
  authMethod: string;
  /** A machine client's resource and scopes. */
  machine?: Omit<MachineBinding, 'clientId'> | undefined;
}

/** Registers a client, recorded as `client.registered` with `by` as its operator. */
export async function registerClient(db: Db, input: RegisterClientInput, by: Operator): Promise<RegisteredClient> {
  const parsed = registerClientInput.parse(input);
  if (parsed.kind === 'machine') return registerMachineClient(db, parsed, by);
  return db.transaction(async (tx) => {
    let registered: { clientId: string; clientSecret?: string | undefined };
    if (parsed.kind === 'introspection') {
      await requireResource(tx, parsed.resource);
      registered = await addIntrospectionClient(tx, parsed);
    } else {
      registered = await addOperatorClient(tx, { name: parsed.name, redirectUris: parsed.redirectUris, confidential: parsed.kind === 'confidential' });
    }
    const introspection = parsed.kind === 'introspection';
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'client.registered', clientId: registered.clientId, details: introspection ? { introspection: true } : {},
    }));
    return {
      clientId: registered.clientId, clientSecret: registered.clientSecret, kind: parsed.kind, name: parsed.name,
      redirectUris: introspection ? [] : parsed.redirectUris, authMethod: parsed.kind === 'public' ? 'none' : 'client_secret_basic',
    };
  });
}

async function requireResource(tx: Queryable, uri: string) {
  const resource = await findResourceByUri(tx, uri);
  if (!resource) throw new AppError('resource_not_found', `resource ${JSON.stringify(uri)} is not registered; register it first`);
  return resource;
}

/**
 * A machine client: its scopes must be the resource's own, irreversible ones only with `allowIrreversible`
 * (they act with no person to ask), and its keys must import. Nothing is written unless all of it holds.
 */
async function registerMachineClient(db: Db, parsed: z.output<typeof newMachineClientSchema>, by: Operator): Promise<RegisteredClient> {
  if (parsed.jwks) await assertUsableSigningKeys(parsed.jwks);
  return db.transaction(async (tx) => {
    const resource = await requireResource(tx, parsed.resource);
    const declared = new Map(resource.scopes.map((s) => [s.scope, s.risk]));
    const unknown = parsed.scopes.filter((scope) => !declared.has(scope));
    if (unknown.length > 0) {
      throw new AppError('invalid_request', `${resource.uri} declares no scope ${unknown.join(', ')}; its scopes are ${[...declared.keys()].join(' ')}`);
    }
    const irreversible = parsed.scopes.filter((scope) => declared.get(scope) === 'irreversible');
    if (irreversible.length > 0 && !parsed.allowIrreversible) {
      throw new AppError('invalid_request', `scope ${irreversible.join(', ')} is irreversible: a machine client acts with no person to confirm it; `
        + 'allow it for this client explicitly (--allow-irreversible) or leave it out');
    }
    const { clientId, clientSecret, authMethod } = await insertMachineClient(tx, parsed);
    const machine = { resource: resource.uri, scopes: parsed.scopes, allowIrreversible: parsed.allowIrreversible };
    await recordAuditEvent(tx, operatorAuditEvent(by, {
      type: 'client.registered', clientId, resource: resource.uri, scopes: parsed.scopes.join(' '),
      details: { machine: true, token_endpoint_auth_method: authMethod, allow_irreversible: parsed.allowIrreversible },
    }));
    return { clientId, clientSecret, kind: 'machine', name: parsed.name, redirectUris: [], authMethod: authMethod satisfies MachineAuthMethod, machine };
  });
}

// The lifecycle's own error names the client and says what to do instead (a CIMD client): client_not_found.
function coded(error: unknown): unknown {
  return error instanceof ClientNotFoundError ? new AppError('client_not_found', error.message) : error;
}

export interface ClientStatusChange { clientId: string; status: 'active' | 'disabled'; changed: boolean; grantsRevoked: number }

/** Disables (refused at /auth and /token, its grants end) or enables a client; audited only when something changed. */
export async function setClientEnabled(db: Db, clientId: string, enabled: boolean, by: Operator): Promise<ClientStatusChange> {
  try {
    return await db.transaction(async (tx) => {
      const { changed, grantsRevoked } = enabled ? await enableClient(tx, clientId) : await disableClient(tx, clientId);
      if (changed) {
        await recordAuditEvent(tx, operatorAuditEvent(by, {
          type: enabled ? 'client.enabled' : 'client.disabled', clientId, details: enabled ? {} : { grants_revoked: grantsRevoked },
        }));
      }
      return { clientId, status: enabled ? 'active' : 'disabled', changed, grantsRevoked };
    });
  } catch (error) {
    throw coded(error);
  }
}

export interface ClientDeletion { clientId: string; grantsRevoked: number }

/** Deletes a client with its grants and tokens, recorded as `client.deleted` with `by` as its operator. */
export async function removeClient(db: Db, clientId: string, by: Operator): Promise<ClientDeletion> {
  try {
    return await db.transaction(async (tx) => {
      const { grantsRevoked } = await deleteClient(tx, clientId);
      await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'client.deleted', clientId, details: { grants_revoked: grantsRevoked } }));
      return { clientId, grantsRevoked };
    });
  } catch (error) {
    throw coded(error);
  }
}
