// Admin operations on clients, shared by the console and the JSON API: the lifecycle list (with
// recent replays), disable, enable and delete through src/clients/lifecycle.ts, each one audited.
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { ClientNotFoundError, deleteClient, disableClient, enableClient } from '../clients/lifecycle.ts';
import { listClientOverview, type ClientOverview } from '../clients/overview.ts';
import { adminAuditEvent, type AdminActor } from './actor.ts';

export interface AdminClient extends ClientOverview {
  /** Refresh tokens or codes replayed in the last 30 days: a leaked credential or a broken client. */
  replaysLast30Days: number;
}

export async function listAdminClients(db: Db): Promise<AdminClient[]> {
  const [clients, replays] = await Promise.all([listClientOverview(db), db.query<{ client_id: string; replays: number }>(
    `SELECT client_id, count(*)::int AS replays FROM audit_events
     WHERE event_type IN ('refresh_token.replay_detected', 'authorization_code.replay_detected')
       AND occurred_at > now() - interval '30 days' AND client_id IS NOT NULL
     GROUP BY client_id`)]);
  const byClient = new Map(replays.rows.map((row) => [row.client_id, row.replays]));
  return clients.map((client) => ({ ...client, replaysLast30Days: byClient.get(client.clientId) ?? 0 }));
}

// The lifecycle's own errors name the client and say what to do instead (a CIMD client): a 404.
async function notFoundAs404<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ClientNotFoundError) throw new AppError('client_not_found', error.message);
    throw error;
  }
}

export async function setClientEnabled(db: Db, clientId: string, enabled: boolean, by: AdminActor) {
  const { changed, grantsRevoked } = await notFoundAs404(() => (enabled ? enableClient(db, clientId) : disableClient(db, clientId)));
  if (changed) {
    await recordAuditEvent(db, adminAuditEvent(by, {
      type: enabled ? 'client.enabled' : 'client.disabled', clientId, details: enabled ? {} : { grants_revoked: grantsRevoked },
    }));
  }
  return { clientId, status: enabled ? 'active' as const : 'disabled' as const, changed, grantsRevoked };
}

export async function removeClient(db: Db, clientId: string, by: AdminActor) {
  const { grantsRevoked } = await notFoundAs404(() => deleteClient(db, clientId));
  await recordAuditEvent(db, adminAuditEvent(by, { type: 'client.deleted', clientId, details: { grants_revoked: grantsRevoked } }));
  return { clientId, deleted: true as const, grantsRevoked };
}
