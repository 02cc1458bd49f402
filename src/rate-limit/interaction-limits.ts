// The anonymous entry point's budget: every /auth that starts a sign-in stores an Interaction row, so
// starts are limited per client address, and the live Interaction rows of all addresses together are
// capped; both are checked where oidc-provider saves the row (the storage adapter's upsert).
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import type { Queryable } from '../db/db.ts';
import { ipKey, RateLimitedError, throwRateLimited, type RateLimits } from './limits.ts';

type AdapterClass = new (model: string) => Adapter;

export interface InteractionLimitConfig {
  /** Pending interactions (live rows) allowed at once, across every address and process. */
  maxPendingInteractions: number;
}

// How long a process trusts its last count of live rows; rows it adds meanwhile are counted locally.
const LIVE_COUNT_REFRESH_MS = 5000;
const RETRY_WHEN_FULL_SECONDS = 60;

/** Counts live Interaction rows, re-reading the database at most every few seconds. */
class LiveInteractionCount {
  private known = 0;
  private readAt = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly db: Queryable) {}

  async current(): Promise<number> {
    if (Date.now() - this.readAt > LIVE_COUNT_REFRESH_MS) {
      this.reading ??= this.db.query<{ live: number }>(
        `SELECT count(*)::int AS live FROM oidc_models WHERE model = 'Interaction' AND expires_at > now()`)
        .then(({ rows }) => { this.known = rows[0]?.live ?? 0; this.readAt = Date.now(); })
        .finally(() => { this.reading = undefined; });
      await this.reading;
    }
    return this.known;
  }

  added(): void { this.known += 1; }
}

/**
 * Refuses to store a new Interaction from /auth (oidc-provider's `authorization` route) when the address
 * has started AUTH_MAX_PER_IP in the window, or AUTH_MAX_PENDING_INTERACTIONS are live. The 429 is
 * rendered by oidc-provider as its error page, never redirected to the client (RateLimitedError).
 */
export function withInteractionLimits(Base: AdapterClass, limits: RateLimits, db: Queryable, config: InteractionLimitConfig): AdapterClass {
  const live = new LiveInteractionCount(db);
  return class InteractionLimitAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      if (this.#model === 'Interaction' && ctx?.oidc?.route === 'authorization') {
        const verdict = limits.authByIp.hit(ipKey('auth_ip', ctx.ip));
        if (!verdict.allowed) throwRateLimited(ctx, limits, limits.authByIp, verdict, 'sign-in attempts started from this address');
        if (await live.current() >= config.maxPendingInteractions) {
          limits.onRefused?.('auth_pending');
          ctx.set('Retry-After', String(RETRY_WHEN_FULL_SECONDS));
          throw new RateLimitedError(`too many sign-ins in progress; try again in ${RETRY_WHEN_FULL_SECONDS} seconds`);
        }
        live.added();
      }
      return super.upsert(id, payload, expiresIn);
    }
  };
}
