// The registered clients' one service, under the CLI, the console and the admin API: checks their input
// (zod), runs each change in one transaction with its audit event (explicit operator), codes its refusals.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { findResourceByUri } from '../resources/store.ts';
import { ClientNotFoundError, deleteClient, disableClient, enableClient } from './lifecycle.ts';
import { listClientOverview, type ClientOverview } from './overview.ts';
import { newIntrospectionClientSchema, newOperatorClientSchema } from './schema.ts';
import { addIntrospectionClient, addOperatorClient } from './store.ts';

export { listClientOverview, type ClientOverview };

/**
 * What an operator registers: a public client (PKCE only), a confidential one (with a secret), or an
 * introspection client (a secret and nothing else, for the one MCP server at `resource`; RFC 7662 §2.1).
 */
export const registerClientInput = z.discriminatedUnion('kind', [
  newOperatorClientSchema.omit({ confidential: true }).extend({ kind: z.enum(['public', 'confidential']) }),
  newIntrospectionClientSchema.extend({ kind: z.literal('introspection') }),
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
}

/** Registers a client, recorded as `client.registered` with `by` as its operator. */
export async function registerClient(db: Db, input: RegisterClientInput, by: Operator): Promise<RegisteredClient> {
  const parsed = registerClientInput.parse(input);
  return db.transaction(async (tx) => {
    let registered: { clientId: string; clientSecret?: string | undefined };
    if (parsed.kind === 'introspection') {
      if (!(await findResourceByUri(tx, parsed.resource))) {
        throw new AppError('resource_not_found', `resource ${JSON.stringify(parsed.resource)} is not registered; register it first`);
      }
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
      redirectUris: introspection ? [] : parsed.redirectUris,
    };
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
