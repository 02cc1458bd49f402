// Where the limits meet oidc-provider: the per-client token limit in the storage adapter's client
// lookup (the first moment the token endpoint knows the client_id, before any grant work), and the
// gate a metadata-document fetch passes before it leaves (src/cimd/resolver.ts `beforeFetch`).
import type Koa from 'koa';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { currentRequestContext } from '../oidc/request-scope.ts';
import { ipKey, subjectKey, throwRateLimited, type RateLimits } from './limits.ts';

type AdapterClass = new (model: string) => Adapter;

// One count per token request, however many times oidc-provider looks the client up.
const counted = new WeakSet<object>();

export function withTokenClientRateLimit(Base: AdapterClass, limits: RateLimits): AdapterClass {
  return class TokenClientRateLimitAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined> {
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      if (this.#model !== 'Client' || ctx?.oidc?.route !== 'token' || counted.has(ctx)) return (await super.find(id)) ?? undefined;
      const counter = limits.tokenByClient;
      const key = subjectKey('token_client', id);
      // Already over: refused before the lookup costs a query.
      const before = counter.peek(key);
      if (!before.allowed) throwRateLimited(ctx, limits, counter, before, 'token requests for this client');
      const client = (await super.find(id)) ?? undefined;
      // Only clients that exist are counted: made-up client_ids get no bucket (the IP limit covers them).
      if (client) {
        counted.add(ctx);
        const verdict = counter.hit(key);
        if (!verdict.allowed) throwRateLimited(ctx, limits, counter, verdict, 'token requests for this client');
      }
      return client;
    }
  };
}

/** Counts a metadata-document fetch against its host and the requesting IP; throws the 429 when over. */
export function metadataFetchGate(limits: RateLimits): (url: URL) => Promise<void> {
  return async (url) => {
    const ctx = (Provider.ctx ?? currentRequestContext()) as Koa.Context | undefined;
    const host = await limits.cimdFetchByHost.hitShared(subjectKey('cimd_host', url.hostname.toLowerCase()));
    if (!host.allowed) throwRateLimited(ctx, limits, limits.cimdFetchByHost, host, `metadata document fetches from ${url.hostname}`);
    if (!ctx?.ip) return;
    const ip = await limits.cimdFetchByIp.hitShared(ipKey('cimd_ip', ctx.ip));
    if (!ip.allowed) throwRateLimited(ctx, limits, limits.cimdFetchByIp, ip, 'new client metadata documents from this address');
  };
}
