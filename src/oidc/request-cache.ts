// Remembers what the adapter read during one oidc-provider request, so a model looked up twice
// in one request (a client, a code checked then consumed) costs one database round trip.
import Provider, { type AdapterPayload } from 'oidc-provider';

type Entries = Map<string, AdapterPayload | null>;
const byRequest = new WeakMap<object, Entries>();

function entries(): Entries | undefined {
  // Provider.ctx is the koa context of the request being served (AsyncLocalStorage), or undefined
  // outside a request (CLI, purge job): then nothing is cached.
  const ctx = Provider.ctx;
  if (!ctx) return undefined;
  let map = byRequest.get(ctx);
  if (!map) {
    map = new Map();
    byRequest.set(ctx, map);
  }
  return map;
}

const key = (model: string, id: string) => `${model}\u0000${id}`;

export const requestCache = {
  /** undefined: not read in this request; null: read and absent. */
  get(model: string, id: string): AdapterPayload | null | undefined {
    const value = entries()?.get(key(model, id));
    return value ? { ...value } : value;
  },
  set(model: string, id: string, payload: AdapterPayload | null | undefined): void {
    entries()?.set(key(model, id), payload ? { ...payload } : null);
  },
  forget(model: string, id: string): void {
    entries()?.delete(key(model, id));
  },
  clearModel(model: string): void {
    const map = entries();
    if (!map) return;
    for (const cacheKey of map.keys()) if (cacheKey.startsWith(`${model}\u0000`)) map.delete(cacheKey);
  },
};
