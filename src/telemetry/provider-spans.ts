// oidc-provider's part of a request as one span per route it serves (token, authorization, resume …),
// through its documented middleware (provider.use) and events: the grant type, the client, and the
// outcome events (grant.success, authorization.accepted, interaction.started …) with their OAuth error code.
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { errorType } from './error-type.ts';
import { requestState } from '../request/state.ts';

// Events whose first argument is the request's context; the others carry a token or code model, which
// is never looked at here.
const STEP_EVENTS = [
  'authorization.accepted', 'authorization.success', 'authorization.error', 'interaction.started', 'interaction.ended',
  'grant.success', 'grant.error', 'grant.revoked', 'introspection.error', 'revocation.error', 'userinfo.error',
  'registration_create.success', 'registration_create.error', 'registration_read.error', 'registration_update.error',
  'registration_delete.success', 'registration_delete.error', 'pushed_authorization_request.success',
  'pushed_authorization_request.error', 'end_session.success', 'end_session.error', 'jwks.error', 'discovery.error',
  'server_error',
] as const;

// grant_type is the client's input, and a confused client may put a token there: only the grant types
// oidc-provider knows are named, any other value is `other`.
const GRANT_TYPES = new Set([
  'authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:openid:params:grant-type:ciba',
]);

function stepAttributes(ctx: KoaContextWithOIDC): Record<string, string> {
  const oidc = ctx.oidc as Partial<KoaContextWithOIDC['oidc']> | undefined;
  const grantType = oidc?.route === 'token' ? oidc.params?.grant_type : undefined;
  const clientId = oidc?.client?.clientId;
  return {
    'oidc.route': oidc?.route ?? 'unmatched',
    ...(typeof grantType === 'string' ? { 'oauth.grant_type': GRANT_TYPES.has(grantType) ? grantType : 'other' } : {}),
    // A public identifier (RFC 6749 §2.2), unlike the client's secret, which is never read here.
    ...(typeof clientId === 'string' ? { 'oauth.client_id': clientId.slice(0, 512) } : {}),
  };
}

export function providerSpans(tracer: Tracer, provider: Provider): void {
  provider.use(async (ctx, next) => {
    await tracer.startActiveSpan('oidc', async (span) => {
      requestState(ctx).providerSpan = span;
      try {
        await next();
      } finally {
        const attributes = stepAttributes(ctx as KoaContextWithOIDC);
        span.updateName(`oidc ${attributes['oidc.route']}`);
        span.setAttributes(attributes);
        span.end();
      }
    });
  });
  for (const name of STEP_EVENTS) {
    (provider as unknown as { on(event: string, listener: (ctx: object, error?: unknown) => void): void }).on(name, (ctx, error) => {
      const span = requestState(ctx).providerSpan;
      if (!span) return;
      if (error === undefined || !name.endsWith('error')) return void span.addEvent(name);
      const code = errorType(error);
      span.addEvent(name, { 'error.type': code });
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    });
  }
}
