// RFC 8707 resource indicators backed by the `resources` table: which audiences tokens may name,
// with which scopes and lifetime, and the rule that every token names exactly one of them.
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import type { Resource } from '../resources/schema.ts';
import { findResourceByUri, findSoleResourceUri } from '../resources/store.ts';
import { requestState } from '../request/state.ts';
import { requireDpopProof } from './dpop-required.ts';

const RESOURCE_REQUIRED = 'resource is required: name the MCP server (RFC 8707 resource parameter) this token is for';
const ONE_RESOURCE = 'request one resource at a time: each access token has exactly one audience';

// Resources change rarely and are read on every authorization and token request: each lookup is kept
// for RESOURCE_CACHE_SECONDS, so a resource registered or changed elsewhere is seen within that long.
export function createResourceDirectory(db: Db, signingAlg: string, cacheSeconds: number) {
  const cacheMs = cacheSeconds * 1000;
  const cache = new Map<string, { at: number; resource: Resource | undefined }>();

  async function lookup(canonicalUri: string): Promise<Resource | undefined> {
    const hit = cache.get(canonicalUri);
    if (hit && Date.now() - hit.at < cacheMs) return hit.resource;
    const resource = await findResourceByUri(db, canonicalUri);
    cache.set(canonicalUri, { at: Date.now(), resource });
    if (cache.size > 1000) cache.delete(cache.keys().next().value as string);
    return resource;
  }

  async function getResourceServerInfo(ctx: KoaContextWithOIDC, indicator: string, client?: { clientId: string }): Promise<ResourceServer> {
    if (Array.isArray(ctx.oidc.params?.resource) && ctx.oidc.params.resource.length > 1) {
      throw new errors.InvalidTarget(ONE_RESOURCE);
    }
    const canonical = tryCanonicalResourceUri(indicator);
    const resource = canonical ? await lookup(canonical) : undefined;
    if (!resource) throw new errors.InvalidTarget(`resource ${JSON.stringify(indicator.slice(0, 200))} is not registered here`);
    // The operator's switches (admin console, 0008): checked on every authorization, code and refresh.
    if (resource.disabled) throw new errors.InvalidTarget(`resource ${JSON.stringify(resource.uri)} is disabled on this server`);
    if (resource.allowedClientIds && !(client && resource.allowedClientIds.includes(client.clientId))) {
      throw new errors.InvalidTarget(`this client may not obtain tokens for resource ${JSON.stringify(resource.uri)}`);
    }
    // A DPoP-required resource (0021): at the token endpoint, whatever the grant, only with a DPoP proof.
    await requireDpopProof(db, ctx, resource);
    // Synchronous hooks (token lifetimes) read it back from the request's state.
    requestState(ctx).resolvedResources.set(resource.uri, resource);
    return {
      audience: resource.uri,
      scope: resource.scopes.map((s) => s.scope).join(' '),
      accessTokenTTL: resource.accessTokenTtlSeconds,
      accessTokenFormat: resource.accessTokenFormat,
      jwt: { sign: { alg: signingAlg } },
    } as ResourceServer;
  }

  /** A request without `resource` gets one only when unambiguous; otherwise invalid_target. */
  async function defaultResource(ctx: KoaContextWithOIDC, client: { clientId: string }, oneOf?: string[]) {
    if (oneOf) {
      if (oneOf.length === 1) return oneOf[0] as string;
      throw new errors.InvalidTarget(RESOURCE_REQUIRED);
    }
    const sole = await findSoleResourceUri(db);
    if (sole) return sole;
    const grantId = ctx.oidc.session?.grantIdFor(client.clientId);
    const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    const granted = Object.keys(grant?.resources ?? {});
    if (granted.length === 1) return granted[0] as string;
    throw new errors.InvalidTarget(RESOURCE_REQUIRED);
  }

  /** The registered resource behind an audience this request already resolved, if any. */
  const resolvedFor = (ctx: object, audience: string) => requestState(ctx).resolvedResources.get(audience) as Resource | undefined;

  /** The registered resource a resource indicator names (lenient on case and a trailing slash). */
  async function find(indicator: string): Promise<Resource | undefined> {
    const canonical = tryCanonicalResourceUri(indicator);
    return canonical ? lookup(canonical) : undefined;
  }

  return { getResourceServerInfo, defaultResource, lookup, find, resolvedFor };
}

export type ResourceDirectory = ReturnType<typeof createResourceDirectory>;

/** Scopes of a resource by risk class. */
export function scopesWithRisk(resource: Resource | undefined, risk: Resource['scopes'][number]['risk']): string[] {
  return (resource?.scopes ?? []).filter((s) => s.risk === risk).map((s) => s.scope);
}

/**
 * Before a code or refresh token is consumed: the token request's `resource`, if sent, must be the
 * one the code or refresh token was issued for. Refusing here, not after consumption, leaves the
 * code or refresh token usable for a corrected retry. A match up to canonical form is rewritten to
 * the stored spelling so oidc-provider's own exact comparison that follows agrees.
 */
export function alignTokenRequestResource(ctx: KoaContextWithOIDC, stored: string | string[] | undefined): void {
  const requested = ctx.oidc.params?.resource;
  if (requested === undefined) return;
  if (Array.isArray(requested)) throw new errors.InvalidTarget(ONE_RESOURCE);
  if (typeof requested !== 'string') throw new errors.InvalidTarget();
  const wanted = tryCanonicalResourceUri(requested);
  const match = [stored ?? []].flat().find((uri) => tryCanonicalResourceUri(uri) === wanted);
  if (!wanted || !match) {
    throw new errors.InvalidTarget('resource differs from the one this grant was authorized for');
  }
  ctx.oidc.params!.resource = match;
}
