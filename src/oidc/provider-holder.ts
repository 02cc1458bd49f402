// The Provider (with everything wired to it) that serves new requests, rebuilt when the published signing
// keys or the one that signs change: oidc-provider reads `jwks` once, at construction, so each is a new Provider.
import type { JWK } from 'jose';
import type { Db } from '../db/db.ts';
import { describeThrown, log } from '../log.ts';
import { loadSigningJwks, publishedSigningKeyIds } from './keys.ts';
import { requestState } from '../request/state.ts';

export interface ProviderHolderOptions<T> {
  db: Db;
  keyEncryptionSecret: string;
  /** Builds a Provider for this key set and wires everything that belongs to that instance. */
  build(jwks: JWK[]): T;
}

export class ProviderHolder<T> {
  readonly #options: ProviderHolderOptions<T>;
  #current: T;
  // The kids in signing order (signing, pending, verifying): a rotation or retirement changes the set, an
  // activation (a pending key's `activates_at` passing) only the order, and either means a new generation.
  #kids: string;
  #refreshing: Promise<boolean> | undefined;

  private constructor(options: ProviderHolderOptions<T>, jwks: JWK[]) {
    this.#options = options;
    this.#current = options.build(jwks);
    this.#kids = keyIds(jwks);
  }

  static async create<T>(options: ProviderHolderOptions<T>): Promise<ProviderHolder<T>> {
    return new ProviderHolder(options, await loadSigningJwks(options.db, options.keyEncryptionSecret));
  }

  /** The generation new requests get. */
  get current(): T {
    return this.#current;
  }

  /** The generation serving this request: the current one when the request first asks, then always that one. */
  forRequest(ctx: object): T {
    // A request keeps the generation it started on, however long it runs and whatever is rebuilt meanwhile.
    const state = requestState(ctx);
    state.providerGeneration ??= this.#current;
    return state.providerGeneration as T;
  }

  /**
   * Asks the database whether the published keys or the key that signs changed (one small query, nothing
   * decrypted) and, if so, builds the next generation from them. True when it rebuilt. Concurrent calls
   * share one check. Run every KEY_REFRESH_SECONDS, so a key signs within that long after `activates_at`.
   */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#refresh().finally(() => { this.#refreshing = undefined; });
    return this.#refreshing;
  }

  async #refresh(): Promise<boolean> {
    const { db, keyEncryptionSecret, build } = this.#options;
    if ((await publishedSigningKeyIds(db)).join(',') === this.#kids) return false;
    const jwks = await loadSigningJwks(db, keyEncryptionSecret);
    const next = build(jwks);
    const kids = keyIds(jwks);
    this.#current = next;
    log.info('signing keys changed: new requests use the new key set', { kids: kids.split(',') });
    this.#kids = kids;
    return true;
  }

  /** Refreshes every `intervalSeconds` until the returned function is called. A failed check keeps the keys. */
  watch(intervalSeconds: number): () => void {
    const timer = setInterval(() => {
      this.refresh().catch((error: unknown) => {
        log.warn('signing key check failed; serving with the current keys', { error: describeThrown(error) });
      });
    }, intervalSeconds * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}

const keyIds = (jwks: JWK[]) => jwks.map((jwk) => jwk.kid ?? '').join(',');
