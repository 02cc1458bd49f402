// The RFC 8693 token-exchange grant, registered with oidc-provider's registerGrantType: an MCP server (the
// introspection client bound to its resource A) trades a person's token for A for a short one to B, on an allowed chain.
import { errors, type KoaContextWithOIDC, type Provider, type ResourceServer } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { findAccountById } from '../accounts/store.ts';
import { tryCanonicalResourceUri } from '../resources/canonical-uri.ts';
import type { Resource } from '../resources/schema.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './schema.ts';
import { fileGrantUnder, findExchangeChain, listExchangeChains, listExchangeWithdrawals, rootGrantIds } from './store.ts';
import { readSubjectToken, remainingSeconds, SubjectTokenRefusal, type OwnJwtVerifier } from './subject-token.ts';

export { TOKEN_EXCHANGE_GRANT };

interface GrantDeps {
  db: Db;
  /** Client metadata naming the resource an MCP server's client is bound to (src/oidc/introspection-policy.ts). */
  boundResourceKey: string;
  verifyJwt: OwnJwtVerifier;
  /** The provider's resource directory (src/oidc/resource-servers.ts), passed in: src/oidc imports this folder. */
  resources: {
    find(uri: string): Promise<Resource | undefined>;
    getResourceServerInfo(ctx: KoaContextWithOIDC, uri: string, client: { clientId: string }): Promise<ResourceServer>;
  };
}

/**
 * oidc-provider's extraTokenClaims: an exchanged token carries `act` (RFC 8693 §4.1), in its JWT or its
 * introspection answer. The grant sets it on the token before saving; oidc-provider then stores what this returns.
 */
export function exchangedTokenClaims(_ctx: unknown, token: { gty?: string; extra?: Record<string, unknown> }): Record<string, unknown> | undefined {
  return token.gty === TOKEN_EXCHANGE_GRANT && token.extra?.act ? { act: token.extra.act } : undefined;
}

const param = (ctx: KoaContextWithOIDC, name: string) => {
  const value = ctx.oidc.params?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

type Facts = { from?: string | undefined; to?: string | undefined; accountId?: string | undefined; scopes?: string | undefined };

export function registerTokenExchangeGrant(provider: Provider, deps: GrantDeps): void {
  async function refuse(ctx: KoaContextWithOIDC, reason: string, facts: Facts, error: Error): Promise<never> {
    await recordAuditEvent(deps.db, {
      type: 'token.exchange_refused', outcome: 'failure', actor: { type: 'client', id: ctx.oidc.client?.clientId },
      clientId: ctx.oidc.client?.clientId, accountId: facts.accountId, resource: facts.to, scopes: facts.scopes,
      details: { reason, from: facts.from ?? null, to: facts.to ?? null },
    });
    throw error;
  }

  async function handler(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    const facts: Facts = {};
    // The caller: an MCP server's own confidential client, bound by the operator to its resource A.
    const bound = client.metadata()[deps.boundResourceKey];
    const from = typeof bound === 'string' && client.clientAuthMethod !== 'none' ? await deps.resources.find(bound) : undefined;
    if (!from || from.disabled) {
      return refuse(ctx, 'not_an_mcp_server', facts, new errors.UnauthorizedClient('only an MCP server\'s own client, bound to its resource, may exchange tokens'));
    }
    facts.from = from.uri;
    if (!(await listExchangeChains(deps.db, from.uri)).length) {
      return refuse(ctx, 'no_chain', facts, new errors.UnauthorizedClient(`${from.uri} is allowed no token exchange`));
    }

    // RFC 8693 §2.1: what we accept. No actor_token (the caller's client authentication names the actor).
    const subjectValue = param(ctx, 'subject_token');
    const subjectType = param(ctx, 'subject_token_type');
    if (!subjectValue || !subjectType) return refuse(ctx, 'missing_parameter', facts, new errors.InvalidRequest('subject_token and subject_token_type are required'));
    if (subjectType !== ACCESS_TOKEN_TYPE) return refuse(ctx, 'subject_token_type', facts, new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`));
    const requestedType = param(ctx, 'requested_token_type');
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
      return refuse(ctx, 'requested_token_type', facts, new errors.InvalidRequest(`only ${ACCESS_TOKEN_TYPE} is issued`));
    }
    if (ctx.oidc.params?.actor_token !== undefined) return refuse(ctx, 'actor_token', facts, new errors.InvalidRequest('actor_token is not supported: the authenticated client is the actor'));
    const [resourceParam, audienceParam] = [param(ctx, 'resource'), param(ctx, 'audience')];
    const target = resourceParam ?? audienceParam;
    if (!target) return refuse(ctx, 'missing_target', facts, new errors.InvalidRequest('name the downstream resource (resource or audience)'));
    if (resourceParam && audienceParam && tryCanonicalResourceUri(resourceParam) !== tryCanonicalResourceUri(audienceParam)) {
      return refuse(ctx, 'two_targets', facts, new errors.InvalidTarget('resource and audience name different services: one token has one audience'));
    }

    let subject;
    try {
      subject = await readSubjectToken(ctx, deps.db, deps.verifyJwt, subjectValue);
    } catch (error) {
      if (!(error instanceof SubjectTokenRefusal)) throw error;
      return refuse(ctx, error.reason, facts, new errors.InvalidGrant(error.message));
    }
    facts.accountId = subject.accountId;
    // The token must be one the caller received: its audience is exactly the caller's own resource.
    if (subject.audience !== from.uri) return refuse(ctx, 'audience_mismatch', facts, new errors.InvalidGrant('subject_token was not issued for this MCP server'));
    const account = await findAccountById(deps.db, subject.accountId);
    if (!account || account.disabled) return refuse(ctx, 'account_disabled', facts, new errors.InvalidGrant('the person behind subject_token cannot sign in'));
    const lifetime = remainingSeconds(subject);
    if (lifetime < 1) return refuse(ctx, 'expired', facts, new errors.InvalidGrant('subject_token has expired'));

    // The downstream resource B: registered, enabled, open to this client, on a chain the operator allowed.
    const to = await deps.resources.find(target);
    facts.to = to?.uri ?? target.slice(0, 200);
    const chain = to ? await findExchangeChain(deps.db, from.uri, to.uri) : undefined;
    if (!to || !chain) return refuse(ctx, 'chain_not_allowed', facts, new errors.InvalidTarget(`${from.uri} may not exchange tokens for ${target.slice(0, 200)}`));
    let resourceServer: ResourceServer;
    try {
      resourceServer = await deps.resources.getResourceServerInfo(ctx, to.uri, client);
    } catch (error) {
      return refuse(ctx, 'target_refused', facts, error as Error);
    }
    // The person may have withdrawn this downstream service from their grant in the portal.
    const roots = await rootGrantIds(deps.db, subject.grantIds);
    const withdrawn = await listExchangeWithdrawals(deps.db, roots);
    const usable = roots.filter((id) => !withdrawn.some((w) => w.grantId === id && w.fromUri === from.uri && w.toUri === to.uri));
    if (usable.length === 0) return refuse(ctx, 'withdrawn_by_person', facts, new errors.InvalidGrant(`the person withdrew ${to.uri} from this grant`));

    // Scopes: a subset of the chain's (default: all of them), still declared by B and never irreversible.
    const offered = new Set(to.scopes.filter((s) => s.risk !== 'irreversible').map((s) => s.scope));
    const allowed = chain.scopes.filter((s) => offered.has(s));
    const requested = param(ctx, 'scope')?.split(' ').filter(Boolean);
    facts.scopes = requested?.join(' ');
    const beyond = (requested ?? []).filter((s) => !allowed.includes(s));
    if (beyond.length > 0) return refuse(ctx, 'scope_beyond_chain', facts, new errors.InvalidScope(`scope ${beyond.join(' ')} is not allowed on this chain`, beyond.join(' ')));
    const scopes = requested ?? allowed;
    if (scopes.length === 0) return refuse(ctx, 'no_scope', facts, new errors.InvalidScope('no scope of this chain is left to grant', chain.scopes.join(' ')));
    const scope = [...new Set(scopes)].join(' ');
    facts.scopes = scope;

    // No longer than the subject token's remaining life, nor than B's own token lifetime.
    const expiresIn = Math.min(lifetime, resourceServer.accessTokenTTL ?? to.accessTokenTtlSeconds);
    // The token's own Grant (client: the MCP server), filed under the person's grant: ending theirs ends it.
    const grant = new provider.Grant({ accountId: subject.accountId, clientId: client.clientId, expiresIn } as never);
    grant.addResourceScope(to.uri, scope);
    const grantId = await grant.save();
    await fileGrantUnder(deps.db, grantId, usable[0]!);
    // Measured again in the same synchronous turn as the token's save takes its clock (its iat): the queries
    // since the first measure may have crossed a second, and the token must not outlive the subject token by
    // it. At least 1 s: a subject token that expired during this request's few milliseconds is past refusing.
    const tokenExpiresIn = Math.max(1, Math.min(expiresIn, remainingSeconds(subject)));
    const token = new provider.AccessToken({
      accountId: subject.accountId, client, grantId, gty: TOKEN_EXCHANGE_GRANT, scope, resourceServer, expiresIn: tokenExpiresIn,
    } as never);
    // RFC 8693 §4.1: the MCP server is the actor; an actor before it (a token already exchanged) nests inside.
    (token as { extra?: Record<string, unknown> }).extra = { act: { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) } };
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    await recordAuditEvent(deps.db, {
      type: 'token.exchanged', actor: { type: 'client', id: client.clientId }, accountId: subject.accountId,
      clientId: client.clientId, resource: to.uri, scopes: scope,
      details: { from: from.uri, to: to.uri, subject_client_id: subject.clientId, grant_id: grantId, parent_grant_id: usable[0]!, expires_in: tokenExpiresIn },
    });
    ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: token.tokenType, expires_in: tokenExpiresIn, scope };
  }

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, handler as never, [
    'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope',
  ]);
}
