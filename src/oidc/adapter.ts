// oidc-provider's storage adapter over our Db: every model in the one `oidc_models` table.
// Owns atomic consumption of codes and the round-trip savings: reads loaded together (prefetch), writes
// that ride along with the next one (a token request's refresh token with its audit row: token-issue-write.ts;
// an authorization step's saves and deletions, sent together when it ends: held-model-writes.ts). Refresh-token rotation rules: refresh-rotation-policy.ts.
import Provider, { errors, type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { requestCache } from '../request/adapter-cache.ts';
import { payloadFromRow, storedPayloadColumns, type StoredPayloadRow } from './stored-payload.ts';
import { consumeRefreshToken, graceSecondsFor, rotateRefreshToken } from './refresh-rotation-policy.ts';
import { prefetchForTokenRequest } from './token-prefetch.ts';
import { prefetchForAuthorization, prefetchForInteraction } from './authorization-prefetch.ts';
import { currentRequestContext } from '../request/scope.ts';
import { deferCodeConsume, deferRefreshTokenSave, deferSaveWithCode } from './token-issue-write.ts';
import { MODEL_UPSERT_SQL } from './model-upsert.ts';
import { holdModelWrite } from './held-model-writes.ts';

/** Checks run on a stored payload before it is consumed; throwing leaves it unconsumed. */
export type ConsumeGuard = (payload: AdapterPayload) => void | Promise<void>;

export interface AdapterOptions {
  /** Seconds in which a consumed refresh token still reads as unconsumed: the honest-retry window. */
  refreshGraceSeconds: number;
  consumeGuards?: Partial<Record<string, ConsumeGuard>>;
}

// Conditional: of two concurrent redemptions of a code exactly one changes the row.
const consumeCodeSql = `UPDATE oidc_models SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL`;


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
      // An authorization step's saves are written together when it ends (held-model-writes.ts); until
      // then this request reads what it saved.
      if (holdModelWrite({ kind: 'upsert', model: this.model, id, values })) {
        requestCache.forget(this.model, id);
        requestCache.set(this.model, id, payload);
        return;
      }
      // Only a refresh token's successor carries its predecessor's deferred consumption.
      const pending = this.model === 'RefreshToken' ? requestCache.takePendingConsume() : undefined;
      requestCache.forget(this.model, id);
      // A renewed session id is saved with the removal of the old one, in one statement (see destroy).
      const replaced = this.model === 'Session' ? requestCache.takePendingDestroy(this.model) : undefined;
      if (replaced) {
        requestCache.forget(replaced.model, replaced.id);
        await db.query(
          `WITH replaced AS (DELETE FROM oidc_models WHERE model = $8 AND id = $9)
           ${MODEL_UPSERT_SQL}`,
          [...values, replaced.model, replaced.id],
        );
        return;
      }
      // A token request's refresh token waits for its audit row, to be written with it (and with the
      // consume of the token it replaces) when the request ends: token-issue-write.ts.
      const successor = { values, grantId: payload.grantId, expiresAt };
      if (this.model === 'RefreshToken' && deferRefreshTokenSave(successor, pending?.id)) return;
      // An opaque access token a code exchange issues exists only if that request wins the code.
      if (this.model === 'AccessToken' && deferSaveWithCode(values)) return;
      if (!pending) {
        await db.query(MODEL_UPSERT_SQL, values);
        return;
      }
      // A rotated refresh token and its successor are written in one statement: the successor exists
      // only if the old token was consumed by this very request (see consume below).
      await rotateRefreshToken(db, Provider.ctx as KoaContextWithOIDC | undefined, pending.id,
        successor, options.refreshGraceSeconds);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      let cached = requestCache.get(this.model, id);
      if (cached === undefined && await this.prefetch(id)) cached = requestCache.get(this.model, id);
      if (cached !== undefined) return cached ?? undefined;
      const row = await this.selectOne('id = $2', id);
      requestCache.set(this.model, id, row ?? null);
      return row;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const cached = requestCache.getByUid(this.model, uid);
      if (cached !== undefined) return cached ?? undefined;
      const row = await this.selectOne('uid = $2', uid);
      requestCache.setByUid(this.model, uid, row ?? null);
      return row;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.selectOne('user_code = $2', userCode);
    }

    async consume(id: string): Promise<void> {
      const guard = options.consumeGuards?.[this.model];
      if (guard) {
        const payload = await this.find(id);
        if (payload) await guard(payload);
      }
      requestCache.forget(this.model, id);
      // During a refresh, oidc-provider consumes the old token and then saves its successor; the
      // consume rides along with that save (one round trip, atomically). Anything else consumes now.
      if (this.model === 'RefreshToken' && isTokenRequest() && requestCache.deferConsume(this.model, id)) return;
      // A code exchange's code is consumed in the statement that saves what it issues (token-issue-write.ts).
      if (this.model === 'AuthorizationCode' && deferCodeConsume(id)) return;
      // oidc-provider does not look at consume's result, so the loser of a race must fail here.
      if (!(await consumeNow(db, this.model, id, options.refreshGraceSeconds))) throw alreadyUsed(this.model);
    }

    async destroy(id: string): Promise<void> {
      // oidc-provider renews the session id whenever an authorization resumes: it drops the old id and
      // saves the session under the new one. Inside its routes the drop waits for that save, and the
      // request's end settles it if no save came (settlePendingDestroy, app.ts). In an authorization step
      // every deletion is held with the step's other writes instead (held-model-writes.ts).
      if (holdModelWrite({ kind: 'delete', model: this.model, id })) {
        requestCache.forget(this.model, id);
        requestCache.set(this.model, id, null);
        return;
      }
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      if (this.model === 'Session' && ctx?.oidc && requestCache.deferDestroy(this.model, id, ctx)) {
        requestCache.forget(this.model, id);
        return;
      }
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [this.model, id]);
      requestCache.forget(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query('DELETE FROM oidc_models WHERE model = $1 AND grant_id = $2', [this.model, grantId]);
      requestCache.clearModel(this.model);
    }

    /** Loads what this request will read next along with `id`, when it is the first read of a known kind. */
    private async prefetch(id: string): Promise<boolean> {
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      switch (this.model) {
        case 'Client': return prefetchForTokenRequest(db, ctx, id, options.refreshGraceSeconds);
        case 'Session': return prefetchForAuthorization(db, ctx, id);
        // Our login and consent pages run outside oidc-provider's routes, in our request scope; a
        // resumed authorization in a browser with no session yet (just signed in) starts here too.
        case 'Interaction': return (ctx ? ctx.oidc?.route === 'resume' : currentRequestContext() !== undefined)
          ? prefetchForInteraction(db, id) : false;
        default: return false;
      }
    }

    private async selectOne(condition: string, value: string): Promise<AdapterPayload | undefined> {
      const { rows } = await db.query<StoredPayloadRow>(
        `SELECT ${storedPayloadColumns('$3')} FROM oidc_models t
         WHERE t.model = $1 AND t.${condition} AND (t.expires_at IS NULL OR t.expires_at > now())`,
        [this.model, value, this.grace],
      );
      return rows[0] ? payloadFromRow(rows[0]) : undefined;
    }
  };
}

async function consumeNow(db: Db, model: string, id: string, refreshGraceSeconds: number): Promise<boolean> {
  if (model === 'RefreshToken') return consumeRefreshToken(db, id, refreshGraceSeconds);
  return (await db.query(consumeCodeSql, [model, id])).rowCount > 0;
}

function isTokenRequest(): boolean {
  return (Provider.ctx as KoaContextWithOIDC | undefined)?.oidc?.route === 'token';
}

/** A session id dropped in this request but not yet deleted (no save followed): deletes it now. */
export async function settlePendingDestroy(db: Db, ctx: object): Promise<void> {
  const pending = requestCache.takePendingDestroy(undefined, ctx);
  if (pending) await db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [pending.model, pending.id]);
}

/**
 * Safety net for the deferred consume: if a token request ends with a consume still pending (no
 * successor was saved), write it now, before the response leaves, and refuse the response if it
 * lost a race. oidc-provider 9 always saves the successor, so this only guards future changes.
 */
export async function settlePendingConsume(db: Db, ctx: object, refreshGraceSeconds: number): Promise<boolean> {
  const pending = requestCache.takePendingConsume(ctx);
  if (!pending) return true;
  return consumeNow(db, pending.model, pending.id, refreshGraceSeconds);
}
