// What the adapter read during one oidc-provider request, and a consume it deferred, so a token
// request costs as few database round trips as possible. Keyed by the request's koa context.
import Provider, { type AdapterPayload } from 'oidc-provider';
import type { Account } from '../accounts/schema.ts';
import { currentRequestContext } from './request-scope.ts';

interface RequestState {
  payloads: Map<string, AdapterPayload | null>;
  accounts: Map<string, Account>;
  /** A refresh token whose consumption waits to be written with its successor (adapter.ts). */
  pendingConsume?: { model: string; id: string } | undefined;
}

const byRequest = new WeakMap<object, RequestState>();

function state(ctx: object | undefined = Provider.ctx ?? currentRequestContext()): RequestState | undefined {
  // The koa context of the request being served: oidc-provider's (Provider.ctx) inside its routes,
  // ours inside our interaction routes; undefined outside a request (CLI, purge job): no caching.
  if (!ctx) return undefined;
  let current = byRequest.get(ctx);
  if (!current) {
    current = { payloads: new Map(), accounts: new Map() };
    byRequest.set(ctx, current);
  }
  return current;
}

const key = (model: string, id: string) => `${model}\u0000${id}`;

export const requestCache = {
  /** undefined: not read in this request; null: read and absent. */
  get(model: string, id: string): AdapterPayload | null | undefined {
    const value = state()?.payloads.get(key(model, id));
    return value ? { ...value } : value;
  },
  set(model: string, id: string, payload: AdapterPayload | null | undefined): void {
    state()?.payloads.set(key(model, id), payload ? { ...payload } : null);
  },
  forget(model: string, id: string): void {
    state()?.payloads.delete(key(model, id));
  },
  clearModel(model: string): void {
    const payloads = state()?.payloads;
    if (!payloads) return;
    for (const cacheKey of payloads.keys()) if (cacheKey.startsWith(`${model}\u0000`)) payloads.delete(cacheKey);
  },
  setAccount(row: { id: string; email: string; is_admin: boolean; disabled_at: string | null }): void {
    state()?.accounts.set(row.id, { id: row.id, email: row.email, isAdmin: row.is_admin, disabled: row.disabled_at !== null });
  },
  getAccount(id: string): Account | undefined {
    return state()?.accounts.get(id);
  },
  /** Defers a consume to the next write in this request; false outside a request (consume now). */
  deferConsume(model: string, id: string): boolean {
    const current = state();
    if (!current) return false;
    current.pendingConsume = { model, id };
    return true;
  },
  /** The pending consume of the current request, or of `ctx` when called after oidc-provider returned. */
  takePendingConsume(ctx?: object): { model: string; id: string } | undefined {
    const current = state(ctx ?? Provider.ctx ?? currentRequestContext());
    const pending = current?.pendingConsume;
    if (current) current.pendingConsume = undefined;
    return pending;
  },
};
