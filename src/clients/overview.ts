// Every client an operator may want to see, with its lifecycle: where its identity comes from, when it
// was first seen and last used, how many live grants it holds, recent replays, and whether it is disabled. Reads only.
import type { Queryable } from '../db/db.ts';
import { DISABLED_CLIENT_MODEL } from './lifecycle.ts';
import type { MachineBinding } from './machine-schema.ts';
import { listMachineBindings } from './machine-store.ts';
import { toClient, type Client } from './schema.ts';

export type ClientStatus = 'active' | 'disabled';

export interface ClientOverview extends Client {
  /** 'operator', 'dynamic_registration' or 'client_id_metadata_document'. */
  source: string;
  status: ClientStatus;
  firstSeenAt: Date | undefined;
  lastUsedAt: Date | undefined;
  grants: number;
  /** Refresh tokens or codes replayed in the last 30 days: a leaked credential or a broken client. */
  replaysLast30Days: number;
  /** A machine client's resource and scopes (client_credentials, 0020); undefined for every other client. */
  machine: Omit<MachineBinding, 'clientId'> | undefined;
}

type OverviewRow = {
  payload: unknown; disabled: boolean; document: boolean; first_seen_at: Date | string | null;
  last_used_at: Date | string | null; grants: number; replays: number;
};

// Registered clients (operator and dynamic registration, disabled ones too) and clients known by their
// metadata document (0005). First seen: a registration's client_id_issued_at, a document's first fetch.
const overviewSql = `
  WITH registered AS (
    SELECT id AS client_id, payload, model = $1 AS disabled, false AS document,
           to_timestamp((payload->>'client_id_issued_at')::double precision) AS first_seen_at
    FROM oidc_models WHERE model IN ('Client', $1) AND (expires_at IS NULL OR expires_at > now())
  ), documents AS (
    SELECT d.client_id, d.metadata AS payload, false AS disabled, true AS document, d.first_seen_at
    FROM client_metadata_documents d WHERE NOT EXISTS (SELECT 1 FROM registered r WHERE r.client_id = d.client_id)
  ), clients AS (SELECT * FROM registered UNION ALL SELECT * FROM documents),
  grants AS (
    SELECT payload->>'clientId' AS client_id, count(*)::int AS grants FROM oidc_models
    WHERE model = 'Grant' AND (expires_at IS NULL OR expires_at > now()) GROUP BY 1
  ), replays AS (
    SELECT client_id, count(*)::int AS replays FROM audit_events
    WHERE event_type IN ('refresh_token.replay_detected', 'authorization_code.replay_detected')
      AND occurred_at > now() - interval '30 days' AND client_id IS NOT NULL
    GROUP BY client_id
  )
  SELECT c.payload, c.disabled, c.document, c.first_seen_at, l.last_used_at, coalesce(g.grants, 0) AS grants,
         coalesce(r.replays, 0) AS replays
  FROM clients c
  LEFT JOIN client_lifecycle l ON l.client_id = c.client_id
  LEFT JOIN grants g ON g.client_id = c.client_id
  LEFT JOIN replays r ON r.client_id = c.client_id
  ORDER BY c.first_seen_at NULLS FIRST, c.client_id`;

const toDate = (value: Date | string | null) => (value === null ? undefined : new Date(value));

/** Every client, oldest first. */
export async function listClientOverview(db: Queryable): Promise<ClientOverview[]> {
  const { rows } = await db.query<OverviewRow>(overviewSql, [DISABLED_CLIENT_MODEL]);
  const bindings = await listMachineBindings(db);
  return rows.map((row) => {
    const client = toClient(row.payload);
    const binding = bindings.get(client.clientId);
    return {
      ...client,
      // Rows written before sources were recorded were the operator's: self-registration always set one.
      source: row.document ? 'client_id_metadata_document' : client.source ?? 'operator',
      status: row.disabled ? 'disabled' : 'active',
      firstSeenAt: toDate(row.first_seen_at),
      lastUsedAt: toDate(row.last_used_at),
      grants: row.grants,
      replaysLast30Days: row.replays,
      machine: binding && { resource: binding.resource, scopes: binding.scopes, allowIrreversible: binding.allowIrreversible },
    };
  });
}
