// oidc-provider's storage adapter over our Db: every model in the one `oidc_models` table.
// Owns atomic consumption of codes and refresh tokens, and the refresh-token grace window.
import Provider, { errors, type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { requestCache } from './request-cache.ts';
import { graceSecondsFor, payloadFromRow, storedPayloadColumns, type StoredPayloadRow } from './stored-payload.ts';
import { prefetchForTokenRequest } from './token-prefetch.ts';

/** Checks run on a stored payload before it is consumed; throwing leaves it unconsumed. */
export type ConsumeGuard = (payload: AdapterPayload) => void;

export interface AdapterOptions {
  /** Seconds in which a consumed refresh token still reads as unconsumed: the honest-retry window. */
  refreshGraceSeconds: number;
  consumeGuards?: Partial<Record<string, ConsumeGuard>>;
}

// Conditional: of two concurrent redemptions exactly one changes the row. A refresh token
// re-consumed inside its grace window keeps its first consumption time, so the window never slides.
const consumeSql = `UPDATE oidc_models SET consumed_at = COALESCE(consumed_at, now())
  WHERE model = $1 AND id = $2
    AND (consumed_at IS NULL OR ($3::int > 0 AND consumed_at > now() - make_interval(secs => $3::int)))`;

const upsertValues = `VALUES ($1, $2, $3, $4, $5, $6, $7)`;
const upsertConflict = `ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
  uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`;

const alreadyUsed = (model: string) =>
  new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`);

export function createAdapterClass(db: Db, options: AdapterOptions) {
  return class DbAdapter implements Adapter {
    readonly model: string;
    private readonly grace: number;

    constructor(model: string) {
      this.model = model;
      this.grace = graceSecondsFor(model, options.refreshGraceSeconds);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const values = [this.model, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null,
        payload.userCode ?? null, expiresAt];
      // Only a refresh token's successor carries its predecessor's deferred consumption.
      const pending = this.model === 'RefreshToken' ? requestCache.takePendingConsume() : undefined;
      requestCache.forget(this.model, id);
      if (!pending) {
        await db.query(`INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at) ${upsertValues} ${upsertConflict}`, values);
        return;
      }
      // A rotated refresh token and its successor are written in one statement: the successor exists
      // only if the old token was consumed by this very request (see consume below).
      const { rowCount } = await db.query(
        `WITH consumed AS (${consumeSql.replaceAll('$1', '$8').replaceAll('$2', '$9').replaceAll('$3', '$10')} RETURNING 1)
         INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
         SELECT $1, $2, $3::jsonb, $4, $5, $6, $7::timestamptz WHERE EXISTS (SELECT 1 FROM consumed) ${upsertConflict}`,
        [...values, pending.model, pending.id, graceSecondsFor(pending.model, options.refreshGraceSeconds)],
      );
      if (rowCount === 0) throw alreadyUsed(pending.model);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      let cached = requestCache.get(this.model, id);
      if (cached === undefined && this.model === 'Client') {
        const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
        if (await prefetchForTokenRequest(db, ctx, id, options.refreshGraceSeconds)) cached = requestCache.get(this.model, id);
      }
      if (cached !== undefined) return cached ?? undefined;
      const row = await this.selectOne('id = $2', id);
      requestCache.set(this.model, id, row ?? null);
      return row;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.selectOne('uid = $2', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.selectOne('user_code = $2', userCode);
    }

    async consume(id: string): Promise<void> {
      const guard = options.consumeGuards?.[this.model];
      if (guard) {
        const payload = await this.find(id);
        if (payload) guard(payload);
      }
      requestCache.forget(this.model, id);
      // During a refresh, oidc-provider consumes the old token and then saves its successor; the
      // consume rides along with that save (one round trip, atomically). Anything else consumes now.
      if (this.model === 'RefreshToken' && isTokenRequest() && requestCache.deferConsume(this.model, id)) return;
      // oidc-provider does not look at consume's result, so the loser of a race must fail here.
      const { rowCount } = await db.query(consumeSql, [this.model, id, this.grace]);
      if (rowCount === 0) throw alreadyUsed(this.model);
    }

    async destroy(id: string): Promise<void> {
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [this.model, id]);
      requestCache.forget(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND grant_id = $2', [this.model, grantId]);
      requestCache.clearModel(this.model);
    }

    private async selectOne(condition: string, value: string): Promise<AdapterPayload | undefined> {
      const { rows } = await db.query<StoredPayloadRow>(
        `SELECT ${storedPayloadColumns('$3')} FROM oidc_models
         WHERE model = $1 AND ${condition} AND (expires_at IS NULL OR expires_at > now())`,
        [this.model, value, this.grace],
      );
      return rows[0] ? payloadFromRow(rows[0]) : undefined;
    }
  };
}

function isTokenRequest(): boolean {
  return (Provider.ctx as KoaContextWithOIDC | undefined)?.oidc?.route === 'token';
}

/**
 * Safety net for the deferred consume: if a token request ends with a consume still pending (no
 * successor was saved), write it now, before the response leaves, and refuse the response if it
 * lost a race. oidc-provider 9 always saves the successor, so this only guards future changes.
 */
export async function settlePendingConsume(db: Db, ctx: object, refreshGraceSeconds: number): Promise<boolean> {
  const pending = requestCache.takePendingConsume(ctx);
  if (!pending) return true;
  const { rowCount } = await db.query(consumeSql, [pending.model, pending.id, graceSecondsFor(pending.model, refreshGraceSeconds)]);
  return rowCount > 0;
}
