// The SQL of disabling, enabling and deleting registered clients, and ending their grants, each run in the
// caller's transaction (the service audits in it). A disabled client's row is parked under model
// 'DisabledClient': oidc-provider never asks for it, so it is refused as unknown.
import type { Queryable } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { endGrants } from '../grants/store.ts';
import { deleteMachineBindings } from './machine-store.ts';

export const DISABLED_CLIENT_MODEL = 'DisabledClient';

export class ClientNotFoundError extends Error {
  override name = 'ClientNotFoundError';
  constructor(clientId: string) {
    // A URL client_id is resolved from its metadata document on every use: there is no record to
    // disable or delete, and its domain is what an operator can block.
    super(clientId.startsWith('https://')
      ? `${clientId} is identified by its Client ID Metadata Document, not registered here; block its domain with the CIMD domain policy instead`
      : `no registered client with id ${clientId}`);
  }
}

/** Removes what belongs to clients whose oidc_models row is already gone: registration access tokens, grants, lifecycle, machine binding. */
export async function removeClientRemains(db: Queryable, clientIds: readonly string[]): Promise<number> {
  if (clientIds.length === 0) return 0;
  await db.query(`DELETE FROM oidc_models WHERE model = 'RegistrationAccessToken' AND payload->>'clientId' = ANY($1::text[])`, [clientIds]);
  await db.query('DELETE FROM client_lifecycle WHERE client_id = ANY($1::text[])', [clientIds]);
  await deleteMachineBindings(db, clientIds);
  return endGrants(db, { clientIds });
}

/** The request behind a change a client made itself, for its audit event. */
export interface ClientRequestFacts { ip: string; userAgent: string | undefined; requestId: string | undefined }

/**
 * After oidc-provider deleted a client at the client's own request (RFC 7592 §2.3, authenticated with its
 * registration access token): its grants and their tokens go with it, as when an operator deletes a
 * client, and the deletion is audited as the client's. Returns the number of grants ended.
 */
export async function endSelfDeletedClient(db: Queryable, clientId: string, request: ClientRequestFacts): Promise<number> {
  const grantsRevoked = await removeClientRemains(db, [clientId]);
  await recordAuditEvent(db, {
    type: 'client.deleted', actor: { type: 'client', id: clientId }, clientId, ip: request.ip, userAgent: request.userAgent,
    requestId: request.requestId, details: { actor: 'client', grants_revoked: grantsRevoked },
  });
  return grantsRevoked;
}

export interface LifecycleChange { changed: boolean; grantsRevoked: number }

/** Disables a client: token requests and authorizations are refused, and its grants end. Idempotent. */
export async function disableClient(tx: Queryable, clientId: string): Promise<LifecycleChange> {
  const parked = await tx.query(`UPDATE oidc_models SET model = $2 WHERE model = 'Client' AND id = $1`, [clientId, DISABLED_CLIENT_MODEL]);
  if (parked.rowCount === 0) {
    await assertDisabledClientExists(tx, clientId);
    return { changed: false, grantsRevoked: 0 };
  }
  await tx.query(
    `INSERT INTO client_lifecycle (client_id, disabled_at) VALUES ($1, now())
     ON CONFLICT (client_id) DO UPDATE SET disabled_at = now()`, [clientId]);
  return { changed: true, grantsRevoked: await endGrants(tx, { clientIds: [clientId] }) };
}

/** Lets a disabled client in again. Its ended grants stay ended: people approve it anew. Idempotent. */
export async function enableClient(tx: Queryable, clientId: string): Promise<LifecycleChange> {
  const restored = await tx.query(`UPDATE oidc_models SET model = 'Client' WHERE model = $2 AND id = $1`, [clientId, DISABLED_CLIENT_MODEL]);
  if (restored.rowCount === 0) {
    const { rowCount } = await tx.query(`SELECT 1 FROM oidc_models WHERE model = 'Client' AND id = $1`, [clientId]);
    if (rowCount === 0) throw new ClientNotFoundError(clientId);
    return { changed: false, grantsRevoked: 0 };
  }
  await tx.query('UPDATE client_lifecycle SET disabled_at = NULL WHERE client_id = $1', [clientId]);
  return { changed: true, grantsRevoked: 0 };
}

/** Deletes a client (active or disabled) with its grants, tokens and registration access tokens. */
export async function deleteClient(tx: Queryable, clientId: string): Promise<{ grantsRevoked: number }> {
  const { rowCount } = await tx.query(
    `DELETE FROM oidc_models WHERE model IN ('Client', $2) AND id = $1`, [clientId, DISABLED_CLIENT_MODEL]);
  if (rowCount === 0) throw new ClientNotFoundError(clientId);
  return { grantsRevoked: await removeClientRemains(tx, [clientId]) };
}

async function assertDisabledClientExists(db: Queryable, clientId: string): Promise<void> {
  const { rowCount } = await db.query('SELECT 1 FROM oidc_models WHERE model = $2 AND id = $1', [clientId, DISABLED_CLIENT_MODEL]);
  if (rowCount === 0) throw new ClientNotFoundError(clientId);
}
