// The RFC 7523 jwt-bearer grant for ID-JAGs (MCP ext-auth Enterprise-Managed Authorization §5), registered
// with oidc-provider's registerGrantType: a confidential client trades an assertion for an access token
// (no refresh token: the extension defines none); every exchange and refusal is audited.
import { errors, type KoaContextWithOIDC, type Provider, type ResourceServer } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { createIssuerKeyCache } from './key-cache.ts';
import { isIrreversibleAllowedViaIdJag } from './store.ts';
import { IdJagRefusal, verifyIdJag } from './verify.ts';
import { decidePolicyFor, partitionScopes, recordPolicyWithheld } from '../policies/service.ts';
import { findResourceByUri } from '../resources/store.ts';

import { ID_JAG_GRANT_PROFILE, JWT_BEARER_GRANT } from './schema.ts';

export { ID_JAG_GRANT_PROFILE, JWT_BEARER_GRANT };

/** The CIMD fetch settings (loopback only in development, extra CA); the JWKS fetch's own limits below. */
interface GrantDeps {
  db: Db; issuer: string; fetch: { allowLoopback: boolean; extraCa?: string | undefined };
  /** The provider's resource directory (src/oidc/resource-servers.ts), passed in: src/oidc imports this folder. */
  resources: {
    getResourceServerInfo(ctx: KoaContextWithOIDC, uri: string, client: { clientId: string }): Promise<ResourceServer>;
    irreversibleScopes(ctx: KoaContextWithOIDC, uri: string): string[];
  };
}

const param = (ctx: KoaContextWithOIDC, name: string) => {
  const value = ctx.oidc.params?.[name];
  return typeof value === 'string' ? value : undefined;
};

export function registerIdJagGrant(provider: Provider, deps: GrantDeps): void {
  const keys = createIssuerKeyCache({ allowLoopback: deps.fetch.allowLoopback, extraCa: deps.fetch.extraCa, timeoutMs: 2500, maxBytes: 64 * 1024 });
  async function refuse(ctx: KoaContextWithOIDC, reason: string, facts: { issuer?: string; jti?: string; resource?: string }, error: Error): Promise<never> {
    await recordAuditEvent(deps.db, {
      type: 'id_jag.refused', outcome: 'failure', actor: { type: 'client', id: ctx.oidc.client?.clientId },
      clientId: ctx.oidc.client?.clientId, resource: facts.resource,
      details: { reason, issuer: facts.issuer ?? null, jti: facts.jti ?? null },
    });
    throw error;
  }

  async function handler(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    // RFC 7521 §4.2 leaves client authentication optional; the extension's client is pre-registered and
    // authenticates, and a public client could replay a stolen assertion: confidential clients only.
    if (client.clientAuthMethod === 'none') {
      await refuse(ctx, 'public_client', {}, new errors.InvalidClient('client authentication is required for the jwt-bearer grant'));
    }
    const requestedScope = param(ctx, 'scope');
    // The resource is looked up once: the verifier checks the assertion's scopes against it, the token uses it.
    let resourceServer: ResourceServer | undefined;
    let verified;
    try {
      verified = await verifyIdJag({
        db: deps.db, issuer: deps.issuer, keys,
        // Only an unknown, disabled or closed resource is "not ours"; a DPoP-required one refuses in its own words.
        resourceScopes: async (uri) => {
          resourceServer = await deps.resources.getResourceServerInfo(ctx, uri, client).catch((error: unknown) => {
            if (error instanceof errors.InvalidTarget) return undefined;
            throw error;
          });
          return resourceServer ? (resourceServer.scope ?? '').split(' ').filter(Boolean) : undefined;
        },
      }, { assertion: ctx.oidc.params?.assertion, clientId: client.clientId, resource: param(ctx, 'resource'), scope: requestedScope });
    } catch (error) {
      if (!(error instanceof IdJagRefusal)) throw error;
      return refuse(ctx, error.reason, error.facts, new errors.InvalidGrant(error.message));
    }
    const facts = { issuer: verified.issuer, jti: verified.jti, resource: verified.resource };
    // Irreversible scopes need the person's own consent each time (consent-policy.ts): never this way,
    // unless the operator let this resource's through (`idjag-resource allow-irreversible`).
    const irreversible = await isIrreversibleAllowedViaIdJag(deps.db, verified.resource)
      ? new Set<string>() : new Set(deps.resources.irreversibleScopes(ctx, verified.resource));
    const askedIrreversible = (requestedScope ?? '').split(' ').filter((s) => irreversible.has(s));
    if (askedIrreversible.length > 0) {
      await refuse(ctx, 'irreversible_scope', facts, new errors.InvalidScope(`scope ${askedIrreversible.join(' ')} cannot be granted by an identity assertion`, askedIrreversible.join(' ')));
    }
    const declared = verified.scopes.filter((s) => !irreversible.has(s));
    // Issue 12: no more than the person could approve themselves, under the organisation's policy.
    const audience = String(resourceServer!.audience ?? verified.resource);
    const decision = await decidePolicyFor(deps.db, verified.accountId, audience);
    const policyFacts = { accountId: verified.accountId, clientId: client.clientId, resource: audience, at: 'id_jag' as const };
    if (decision.kind === 'refused') {
      await recordPolicyWithheld(deps.db, decision, { ...policyFacts, scopes: declared });
      await refuse(ctx, 'policy_refused', facts, new errors.InvalidGrant("the organisation's policy does not let this person approve access to this resource"));
    }
    const { allowed: scopes, withheld } = partitionScopes(decision, await findResourceByUri(deps.db, audience), declared);
    if (withheld.length > 0) await recordPolicyWithheld(deps.db, decision, { ...policyFacts, scopes: withheld });
    const scope = scopes.join(' ');

    const grant = new provider.Grant({ accountId: verified.accountId, clientId: client.clientId });
    if (scope) grant.addResourceScope(verified.resource, scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      accountId: verified.accountId, client, grantId, gty: JWT_BEARER_GRANT, scope: scope || undefined,
      resourceServer: resourceServer!,
    } as ConstructorParameters<typeof provider.AccessToken>[0]);
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    await recordAuditEvent(deps.db, {
      type: 'id_jag.exchanged', actor: { type: 'client', id: client.clientId }, accountId: verified.accountId,
      clientId: client.clientId, resource: verified.resource, scopes: scope,
      details: { issuer: verified.issuer, subject: verified.subject, jti: verified.jti, grant_id: grantId },
    });
    ctx.body = { access_token: value, token_type: token.tokenType, expires_in: token.expiration, scope: scope || undefined };
  }

  provider.registerGrantType(JWT_BEARER_GRANT, handler as never, ['assertion', 'scope', 'resource']);
}
