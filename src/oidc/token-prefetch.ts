// One query for everything a token request reads: when oidc-provider authenticates the client of a
// code exchange or refresh, we load that client, the code or refresh token, its grant and its account
// together, and the lookups that follow are answered from the request cache; with them, the organisation's
// policies for the token's resource and the account's identity claims (src/policies/), read now as always.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { requestCache } from '../request/adapter-cache.ts';
import { payloadFromRow, storedPayloadColumns, type StoredPayloadRow } from './stored-payload.ts';
import { graceSecondsFor } from './refresh-rotation-policy.ts';
import { policyFactsSql } from '../policies/store.ts';

const TOKEN_MODEL_BY_GRANT: Record<string, string> = {
  authorization_code: 'AuthorizationCode',
  refresh_token: 'RefreshToken',
};

type PrefetchRow = {
  client: StoredPayloadRow['payload'] | null;
  token: StoredPayloadRow | null;
  grant: StoredPayloadRow['payload'] | null;
  account: { id: string; email: string; is_admin: boolean; disabled_at: string | null } | null;
  resource: string | null;
  policies: unknown;
  identities: unknown;
};

const live = (alias: string) => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;

const prefetchSql = `
  WITH token AS (
    SELECT ${storedPayloadColumns('$4')}, payload->>'grantId' AS grant_id, payload->>'accountId' AS account_id
    FROM oidc_models t WHERE t.model = $2 AND t.id = $3 AND ${live('t')}
  )
  SELECT
    (SELECT c.payload FROM oidc_models c WHERE c.model = 'Client' AND c.id = $1 AND ${live('c')}) AS client,
    (SELECT json_build_object('payload', payload, 'consumed', consumed) FROM token) AS token,
    (SELECT g.payload FROM oidc_models g WHERE g.model = 'Grant' AND g.id = (SELECT grant_id FROM token) AND ${live('g')}) AS grant,
    (SELECT json_build_object('id', a.id, 'email', a.email, 'is_admin', a.is_admin, 'disabled_at', a.disabled_at)
       FROM accounts a WHERE a.id = (SELECT account_id FROM token)) AS account,
    (SELECT payload->>'resource' FROM token) AS resource,
    ${policyFactsSql("(SELECT payload->>'resource' FROM token)", '(SELECT account_id FROM token)')}`;

/**
 * Called before a Client lookup misses the request cache. Returns true when it loaded the client
 * (and the rest) for a token request; false when this is not one and the plain lookup should run.
 */
export async function prefetchForTokenRequest(db: Db, ctx: KoaContextWithOIDC | undefined, clientId: string, refreshGraceSeconds: number): Promise<boolean> {
  if (ctx?.oidc?.route !== 'token') return false;
  const params = ctx.oidc.params ?? {};
  const model = TOKEN_MODEL_BY_GRANT[String(params.grant_type)];
  const tokenValue = model === 'AuthorizationCode' ? params.code : params.refresh_token;
  if (!model || typeof tokenValue !== 'string' || tokenValue.length > 512) return false;

  const { rows } = await db.query<PrefetchRow>(prefetchSql, [clientId, model, tokenValue, graceSecondsFor(model, refreshGraceSeconds)]);
  const row = rows[0];
  requestCache.set('Client', clientId, row?.client ?? null);
  requestCache.set(model, tokenValue, row?.token ? payloadFromRow(row.token) : null);
  const grantId = row?.token?.payload.grantId;
  if (typeof grantId === 'string') requestCache.set('Grant', grantId, row?.grant ?? null);
  if (row?.account) requestCache.setAccount(row.account);
  if (row?.account && typeof row.resource === 'string') {
    requestCache.setPolicyFacts({ resourceUri: row.resource, accountId: row.account.id, policies: row.policies, identities: row.identities });
  }
  return true;
}
