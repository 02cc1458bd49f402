// oidc-provider's storage adapter over our Db: every model in the one `oidc_models` table.
// Owns atomic consumption of codes and refresh tokens, and the refresh-token grace window.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { requestCache } from './request-cache.ts';

/** Checks run on a stored payload before it is consumed; throwing leaves it unconsumed. */
export type ConsumeGuard = (payload: AdapterPayload) => void;

export interface AdapterOptions {
  /** Seconds in which a consumed refresh token still reads as unconsumed: the honest-retry window. */
  refreshGraceSeconds: number;
  consumeGuards?: Partial<Record<string, ConsumeGuard>>;
}

type Row = { payload: AdapterPayload; consumed_at: Date | string | null; in_grace: boolean | null };

const epochSeconds = (value: Date | string) => Math.floor(new Date(value).getTime() / 1000);

export function createAdapterClass(db: Db, options: AdapterOptions) {
  return class DbAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await db.query(
        `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
        [this.model, id, JSON.stringify(payload), payload.grantId ?? null, payload.uid ?? null,
          payload.userCode ?? null, expiresAt],
      );
      requestCache.forget(this.model, id);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const cached = requestCache.get(this.model, id);
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
      // Conditional UPDATE: of two concurrent redemptions exactly one changes the row. oidc-provider
      // does not look at consume's result, so the loser must fail here, as invalid_grant, not later.
      // A refresh token re-consumed inside the grace window keeps its first consumption time.
      const { rowCount } = await db.query(
        `UPDATE oidc_models SET consumed_at = COALESCE(consumed_at, now())
         WHERE model = $1 AND id = $2
           AND (consumed_at IS NULL OR ($3::int > 0 AND consumed_at > now() - make_interval(secs => $3::int)))`,
        [this.model, id, this.model === 'RefreshToken' ? options.refreshGraceSeconds : 0],
      );
      requestCache.forget(this.model, id);
      if (rowCount === 0) throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
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
      const { rows } = await db.query<Row>(
        `SELECT payload, consumed_at,
                consumed_at > now() - make_interval(secs => $3::int) AS in_grace
         FROM oidc_models
         WHERE model = $1 AND ${condition} AND (expires_at IS NULL OR expires_at > now())`,
        [this.model, value, this.model === 'RefreshToken' ? options.refreshGraceSeconds : 0],
      );
      const row = rows[0];
      if (!row) return undefined;
      // Inside the grace window a rotated refresh token reads as unused, so an honest retry is
      // served a fresh successor; after it, oidc-provider sees `consumed` and revokes the grant.
      if (row.consumed_at !== null && !row.in_grace) {
        return { ...row.payload, consumed: epochSeconds(row.consumed_at) };
      }
      return row.payload;
    }
  };
}
