// One query for what an authorization request reads: the browser's session, the interaction being
// resumed, the client, its grant and the signed-in account, loaded together when the first of them is
// looked up; the lookups that follow in the same request are answered from the request cache.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { isMetadataDocumentClientId } from '../cimd/resolver.ts';
import { requestCache } from '../request/adapter-cache.ts';
import { grantFlagsJsonSql } from '../grants/tool-reconsent-store.ts';
import { payloadFromRow, storedPayloadColumns, type StoredPayloadRow } from './stored-payload.ts';
import { policyFactsSql } from '../policies/store.ts';
import { resourceFromJson, resourceJsonSql } from '../resources/store.ts';

type Payload = StoredPayloadRow['payload'];
type PrefetchRow = {
  session: StoredPayloadRow | null;
  session_uid: string | null;
  interaction: StoredPayloadRow | null;
  client_id: string | null;
  client: Payload | null;
  grant_id: string | null;
  grant: Payload | null;
  grant_tool_reconsents: unknown;
  account: { id: string; email: string; is_admin: boolean; disabled_at: string | null } | null;
  resource_uri: string | null;
  resource: unknown;
  policies: unknown;
  identities: unknown;
};

const live = (alias: string) => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;
const stored = (alias: string) =>
  `json_build_object('payload', ${alias}.payload, 'consumed', floor(extract(epoch FROM ${alias}.consumed_at))::int8)`;

// $1 session id (from the cookie) or null, $2 interaction id or null, $3 client_id when the request names
// it. Without a session id, the session is the one the interaction belongs to (by uid). The client comes
// from the request or the interaction; the grant from the interaction's consent result, the interaction
// itself, or the session's authorization of that client (the order oidc-provider looks in); the account
// from the interaction's login result, the interaction's session, or the session. With the grant, its
// re-consent flags (issue 14 §3: src/tools/reconsent.ts), which the consent prompt's check and the page read.
// $4 the resource the request names, else the interaction's: the registered resource (the consent page
// shows it) and the organisation's policies for it with the account's identity claims (src/policies/: each
// authorization step and consent page decides by them), read with the rest as they would be read apart.
const prefetchSql = `
  WITH i AS (
    SELECT * FROM oidc_models t WHERE t.model = 'Interaction' AND t.id = $2 AND ${live('t')}
  ), s AS (
    (SELECT * FROM oidc_models t WHERE t.model = 'Session' AND t.id = $1 AND ${live('t')})
    UNION ALL
    (SELECT * FROM oidc_models t WHERE $1::text IS NULL AND t.model = 'Session'
       AND t.uid = (SELECT payload->'session'->>'uid' FROM i) AND ${live('t')} LIMIT 1)
  ), c AS (
    SELECT COALESCE($3::text, (SELECT payload->'params'->>'client_id' FROM i)) AS client_id
  ), g AS (
    SELECT COALESCE(
      (SELECT payload->'result'->'consent'->>'grantId' FROM i),
      (SELECT payload->>'grantId' FROM i),
      (SELECT s.payload->'authorizations'->(SELECT client_id FROM c)->>'grantId' FROM s LIMIT 1)) AS grant_id
  ), acct AS (
    SELECT COALESCE((SELECT payload->'result'->'login'->>'accountId' FROM i),
                    (SELECT payload->'session'->>'accountId' FROM i),
                    (SELECT payload->>'accountId' FROM s LIMIT 1)) AS id
  ), res AS (
    SELECT COALESCE($4::text, (SELECT payload->'params'->>'resource' FROM i)) AS uri
  )
  SELECT
    (SELECT ${stored('s')} FROM s LIMIT 1) AS session,
    (SELECT s.uid FROM s LIMIT 1) AS session_uid,
    (SELECT ${stored('i')} FROM i) AS interaction,
    (SELECT client_id FROM c) AS client_id,
    (SELECT cl.payload FROM oidc_models cl WHERE cl.model = 'Client' AND cl.id = (SELECT client_id FROM c) AND ${live('cl')}) AS client,
    (SELECT grant_id FROM g) AS grant_id,
    (SELECT gr.payload FROM oidc_models gr WHERE gr.model = 'Grant' AND gr.id = (SELECT grant_id FROM g) AND ${live('gr')}) AS grant,
    ${grantFlagsJsonSql('(SELECT grant_id FROM g)')} AS grant_tool_reconsents,
    (SELECT json_build_object('id', a.id, 'email', a.email, 'is_admin', a.is_admin, 'disabled_at', a.disabled_at)
       FROM accounts a WHERE a.id = (SELECT id FROM acct)) AS account,
    (SELECT uri FROM res) AS resource_uri,
    ${resourceJsonSql('(SELECT uri FROM res)')},
    ${policyFactsSql('(SELECT uri FROM res)', '(SELECT id FROM acct)')}`;

export interface PrefetchKeys {
  sessionId?: string | undefined;
  interactionId?: string | undefined;
  clientId?: string | undefined;
  resource?: string | undefined;
}

const usable = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 512;

/** Loads everything `keys` leads to into the request cache, in one round trip. */
async function prefetch(db: Db, keys: PrefetchKeys): Promise<void> {
  const { rows } = await db.query<PrefetchRow>(prefetchSql,
    [keys.sessionId ?? null, keys.interactionId ?? null, keys.clientId ?? null, keys.resource ?? null]);
  const row = rows[0];
  if (!row) return;
  if (keys.sessionId) requestCache.set('Session', keys.sessionId, row.session ? payloadFromRow(row.session) : null);
  // Found through the interaction: oidc-provider will look it up by that uid.
  const sessionUid = row.interaction?.payload.session?.uid;
  if (!keys.sessionId && typeof sessionUid === 'string') {
    requestCache.setByUid('Session', sessionUid, row.session && row.session_uid === sessionUid ? payloadFromRow(row.session) : null);
  }
  if (keys.interactionId) requestCache.set('Interaction', keys.interactionId, row.interaction ? payloadFromRow(row.interaction) : null);
  // A URL client_id is resolved from its metadata document (src/cimd/adapter.ts), never from this table.
  if (row.client_id && !isMetadataDocumentClientId(row.client_id) && row.client) requestCache.set('Client', row.client_id, row.client);
  if (row.grant_id) {
    requestCache.set('Grant', row.grant_id, row.grant);
    requestCache.setToolReconsents(row.grant_id, row.grant_tool_reconsents);
  }
  if (row.account) requestCache.setAccount(row.account);
  // Found by the URI as the request spelled it: a spelling that is not the canonical one finds nothing here
  // and is looked up canonically later, as without the prefetch.
  const resource = resourceFromJson(row.resource);
  if (resource) requestCache.setResource(resource.uri, resource);
  if (row.account && typeof row.resource_uri === 'string') {
    requestCache.setPolicyFacts({ resourceUri: row.resource_uri, accountId: row.account.id, policies: row.policies, identities: row.identities });
  }
}

/**
 * Called when oidc-provider looks up the browser's session by its cookie. On an authorization request
 * (GET, client_id in the query) or a resumed one (/auth/:uid), loads the rest with it and returns true;
 * false when this is another request and the plain lookup should run.
 */
export async function prefetchForAuthorization(db: Db, ctx: KoaContextWithOIDC | undefined, sessionId: string): Promise<boolean> {
  const route = ctx?.oidc?.route;
  if (!usable(sessionId)) return false;
  if (route === 'resume') {
    const uid = (ctx as unknown as { params?: Record<string, unknown> }).params?.uid;
    if (!usable(uid)) return false;
    await prefetch(db, { sessionId, interactionId: uid });
    return true;
  }
  if (route === 'authorization' && ctx!.method === 'GET') {
    const { client_id: clientId, resource } = ctx!.query;
    await prefetch(db, { sessionId, clientId: usable(clientId) ? clientId : undefined, resource: usable(resource) ? resource : undefined });
    return true;
  }
  return false;
}

/**
 * Called when our login and consent pages load their interaction (oidc-provider's interactionDetails),
 * or a resumed authorization does before any session exists: the interaction, the session it belongs
 * to (found by uid), the client, the grant and the account, in one query.
 */
export async function prefetchForInteraction(db: Db, interactionId: string): Promise<boolean> {
  if (!usable(interactionId)) return false;
  await prefetch(db, { interactionId });
  return true;
}
