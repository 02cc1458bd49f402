// Where the limits meet oidc-provider: the per-client token limit (refused in the storage adapter's
// client lookup, the first moment the token endpoint knows the client_id; counted once the request has
// proved it speaks for the client), and the gate a metadata-document fetch passes (src/cimd/resolver.ts).
import type Koa from 'koa';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { normaliseHost } from '../cimd/host-name.ts';
import { currentRequestContext } from '../request/scope.ts';
import { ipBucket } from '../accounts/login-throttle.ts';
import { ipKey, subjectKey, throwRateLimited, type RateLimits } from './limits.ts';

type AdapterClass = new (model: string) => Adapter;

const tokenClientKey = (clientId: string) => subjectKey('token_client', clientId);

/** Refuses a token request for a client whose budget is spent, before the lookup costs a query. */
export function withTokenClientRateLimit(Base: AdapterClass, limits: RateLimits): AdapterClass {
  return class TokenClientRateLimitAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined> {
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      if (this.#model === 'Client' && ctx?.oidc?.route === 'token') {
        const verdict = limits.tokenByClient.peek(tokenClientKey(id));
        if (!verdict.allowed) throwRateLimited(ctx, limits, limits.tokenByClient, verdict, 'token requests for this client');
      }
      return (await super.find(id)) ?? undefined;
    }
  };
}

/**
 * Counts a token request against its client only when it spoke for the client: it got tokens, or the
 * client authenticated (a secret or a key) and the grant then failed. Anyone can send a client_id, so
 * requests that proved nothing (a public client's bad code, a wrong secret) are left to the per-IP limit:
 * a stranger cannot spend a victim client's budget.
 */
export function countTokenRequestsPerClient(provider: Provider, limits: RateLimits): void {
  const count = (ctx: KoaContextWithOIDC) => {
    const clientId = ctx.oidc?.client?.clientId;
    if (clientId) limits.tokenByClient.hit(tokenClientKey(clientId));
  };
  provider.on('grant.success', count);
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error?: string; statusCode?: number }) => {
    const client = ctx.oidc?.client;
    // invalid_client: the credential failed; 429: our own refusal; a public client authenticates nothing.
    if (!client || client.clientAuthMethod === 'none' || error.error === 'invalid_client' || error.statusCode === 429) return;
    count(ctx);
  });
}

/**
 * Counts a metadata-document fetch against its host and the requesting address, and throws the 429 when
 * over. A host's budget is spent per requesting address first (CIMD_FETCH_MAX_PER_HOST_PER_IP), and only
 * what that allows counts toward the host's total (CIMD_FETCH_MAX_PER_HOST): one address cannot use up
 * the fetches every other client of that host needs.
 */
export function metadataFetchGate(limits: RateLimits): (url: URL) => Promise<void> {
  return async (url) => {
    const ctx = (Provider.ctx ?? currentRequestContext()) as Koa.Context | undefined;
    const host = normaliseHost(url.hostname) ?? url.hostname;
    const what = `metadata document fetches from ${host}`;
    if (ctx?.ip) {
      const hostAndIp = await limits.cimdFetchByHostAndIp.hitShared(subjectKey('cimd_host_ip', `${host}|${ipBucket(ctx.ip)}`));
      if (!hostAndIp.allowed) throwRateLimited(ctx, limits, limits.cimdFetchByHostAndIp, hostAndIp, `${what} by this address`);
    }
    const total = await limits.cimdFetchByHost.hitShared(subjectKey('cimd_host', host));
    if (!total.allowed) throwRateLimited(ctx, limits, limits.cimdFetchByHost, total, what);
    if (!ctx?.ip) return;
    const ip = await limits.cimdFetchByIp.hitShared(ipKey('cimd_ip', ctx.ip));
    if (!ip.allowed) throwRateLimited(ctx, limits, limits.cimdFetchByIp, ip, 'new client metadata documents from this address');
  };
}
