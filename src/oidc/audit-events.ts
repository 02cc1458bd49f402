// Turns oidc-provider's events into audit records: tokens issued, and grants revoked, which on the
// token endpoint means a replayed code or refresh token (refresh-rotation-policy.ts says which reuse is one).
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { AuditWriter } from '../audit/writer.ts';
import type { AuditEvent } from '../audit/store.ts';
import { attachAuditEvent } from './token-issue-write.ts';

const writers = new Set<AuditWriter>();

/** Audit writes run beside the response; tests and shutdown wait for them here. */
export async function flushAuditWrites(): Promise<void> {
  await Promise.all([...writers].map((writer) => writer.flush()));
}

function requestFacts(ctx: KoaContextWithOIDC) {
  return {
    clientId: ctx.oidc.client?.clientId,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent') || undefined,
    requestId: ctx.state?.requestId as string | undefined,
  };
}

export function subscribeAuditEvents(provider: Provider, db: Db): void {
  const writer = new AuditWriter(db);
  writers.add(writer);
  const record = writer.enqueue.bind(writer);
  const recordIssued = (ctx: KoaContextWithOIDC, event: AuditEvent) => {
    if (!attachAuditEvent(ctx, event)) record(event);
  };

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const machine = ctx.oidc.entities.ClientCredentials;
    if (machine) {
      // A machine client's token (client_credentials): the client acts for itself, no person is involved.
      const facts = requestFacts(ctx);
      record({
        type: 'token.issued', ...facts, actor: { type: 'client', id: facts.clientId },
        resource: machine.resourceServer?.audience, scopes: machine.scope,
        details: { grant_type: ctx.oidc.params?.grant_type, acts_for: 'client', person: null },
      });
      return;
    }
    const token = ctx.oidc.entities.AccessToken;
    // With the refresh token issued beside the access token, the row is written in the same statement
    // (token-issue-write.ts): it exists exactly when the refresh token does, and before the response leaves.
    recordIssued(ctx, {
      type: 'token.issued',
      ...requestFacts(ctx),
      accountId: token?.accountId,
      resource: typeof token?.aud === 'string' ? token.aud : undefined,
      scopes: token?.scope,
      // A DPoP-bound token (RFC 9449) names the key it is bound to: its thumbprint, never the key itself.
      details: { grant_type: ctx.oidc.params?.grant_type, grant_id: token?.grantId, ...(token?.jkt ? { dpop_jkt: token.jkt } : {}) },
    });
  });

  // RP-initiated logout (/session/end): the person signed out through a client.
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return;
    record({ type: 'session.ended', ...requestFacts(ctx), accountId, details: { via: 'end_session' } });
  });

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const onTokenEndpoint = ctx.oidc.route === 'token';
    const grantType = ctx.oidc.params?.grant_type;
    record({
      type: !onTokenEndpoint ? 'grant.revoked'
        : grantType === 'refresh_token' ? 'refresh_token.replay_detected' : 'authorization_code.replay_detected',
      outcome: onTokenEndpoint ? 'failure' : 'success',
      ...requestFacts(ctx),
      details: { grant_id: grantId, revoked_by: onTokenEndpoint ? 'replay_detection' : 'client' },
    });
  });
}
