// What the adapter read during one request (by id, and by uid), and a consume or session removal it
// deferred to the next write, so each request costs as few database round trips as possible. Kept on
// the request's state (state.ts).
import Provider, { type AdapterPayload } from 'oidc-provider';
import { currentRequestContext } from './scope.ts';
import { requestState, type DeferredWrite, type PrefetchedAccount, type PrefetchedPolicyFacts, type RequestState } from './state.ts';

function state(ctx: object | undefined = Provider.ctx ?? currentRequestContext()): RequestState | undefined {
  // The koa context of the request being served: oidc-provider's (Provider.ctx) inside its routes,
  // ours inside our interaction routes; undefined outside a request (CLI, purge job): no caching.
  return ctx ? requestState(ctx) : undefined;
}

const key = (model: string, id: string) => `${model}\u0000${id}`;

function forgetKeysOf(map: Map<string, unknown>, model: string): void {
  for (const cacheKey of map.keys()) if (cacheKey.startsWith(`${model}\u0000`)) map.delete(cacheKey);
}

export const requestCache = {
  /** undefined: not read in this request; null: read and absent. */
  get(model: string, id: string): AdapterPayload | null | undefined {
    const value = state()?.payloads.get(key(model, id));
    return value ? { ...value } : value;
  },
  set(model: string, id: string, payload: AdapterPayload | null | undefined): void {
    state()?.payloads.set(key(model, id), payload ? { ...payload } : null);
  },
  getByUid(model: string, uid: string): AdapterPayload | null | undefined {
    const value = state()?.byUid.get(key(model, uid));
    return value ? { ...value } : value;
  },
  setByUid(model: string, uid: string, payload: AdapterPayload | null | undefined): void {
    state()?.byUid.set(key(model, uid), payload ? { ...payload } : null);
  },
  /** After a write to `id`: its cached read is stale, and so is any lookup of the model by uid. */
  forget(model: string, id: string): void {
    const current = state();
    current?.payloads.delete(key(model, id));
    if (current) forgetKeysOf(current.byUid, model);
  },
  clearModel(model: string): void {
    const current = state();
    if (!current) return;
    forgetKeysOf(current.payloads, model);
    forgetKeysOf(current.byUid, model);
  },
  setAccount(row: { id: string; email: string; is_admin: boolean; disabled_at: string | null }): void {
    state()?.accounts.set(row.id, { id: row.id, email: row.email, isAdmin: row.is_admin, disabled: row.disabled_at !== null });
  },
  getAccount(id: string): PrefetchedAccount | undefined {
    return state()?.accounts.get(id);
  },
  /** A grant's re-consent flags as the prefetch read them (json); undefined when not read in this request. */
  setToolReconsents(grantId: string, flags: unknown): void {
    state()?.toolReconsents.set(grantId, flags ?? []);
  },
  getToolReconsents(grantId: string): unknown {
    return state()?.toolReconsents.get(grantId);
  },
  /** The policy facts the request's prefetch read (one resource, one account); undefined outside a request. */
  setPolicyFacts(facts: PrefetchedPolicyFacts): void {
    const current = state();
    if (current) current.prefetchedPolicyFacts = facts;
  },
  getPolicyFacts(): PrefetchedPolicyFacts | undefined {
    return state()?.prefetchedPolicyFacts;
  },
  /** A registered resource the prefetch read (json, typed by src/resources/request-resource.ts), by its URI. */
  setResource(uri: string, resource: unknown): void {
    state()?.prefetchedResources.set(uri, resource);
  },
  getResource(uri: string): unknown {
    return state()?.prefetchedResources.get(uri);
  },
  /** Defers a consume to the next write in this request; false outside a request (consume now). */
  deferConsume(model: string, id: string): boolean {
    const current = state();
    if (!current) return false;
    current.pendingConsume = { model, id };
    return true;
  },
  /** The pending consume of the current request, or of `ctx` when called after oidc-provider returned. */
  takePendingConsume(ctx?: object): DeferredWrite | undefined {
    const current = state(ctx ?? Provider.ctx ?? currentRequestContext());
    const pending = current?.pendingConsume;
    if (current) current.pendingConsume = undefined;
    return pending;
  },
  /** Defers a delete to the next save of the same model in this request; false outside a request. */
  deferDestroy(model: string, id: string, ctx: object): boolean {
    const current = state(ctx);
    if (!current || current.pendingDestroy) return false;
    current.pendingDestroy = { model, id };
    return true;
  },
  /** The pending delete, if it is of `model` (or of any model when omitted), taken off the request. */
  takePendingDestroy(model?: string, ctx?: object): DeferredWrite | undefined {
    const current = state(ctx ?? Provider.ctx ?? currentRequestContext());
    const pending = current?.pendingDestroy;
    if (!pending || (model !== undefined && pending.model !== model)) return undefined;
    current.pendingDestroy = undefined;
    return pending;
  },
};
