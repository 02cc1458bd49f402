// The login and consent pages oidc-provider sends people to (`interactions.url`), wired through its
// documented interaction API: interactionDetails → our decision → interactionFinished.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { signInWithPassword } from '../accounts/sign-in.ts';
import type { LoginThrottle } from '../accounts/login-throttle.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { renderView } from '../views.ts';
import { allowFormRedirectTo } from '../http/security-headers.ts';
import { registerConsentRoutes, renderConsentPage } from './consent-routes.ts';

const loginForm = z.object({ email: z.string().max(254).default(''), password: z.string().max(256).default('') });

export interface InteractionDeps { provider: Provider; db: Db; loginThrottle: LoginThrottle }

const facts = (ctx: Koa.Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, requestId: ctx.state.requestId as string });

export function registerInteractionRoutes(router: Router, { provider, db, loginThrottle }: InteractionDeps): void {
  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new AppError('invalid_request', 'interaction mismatch');
    allowFormRedirectTo(ctx, details.params.redirect_uri);
    const client = await provider.Client.find(String(details.params.client_id));
    if (details.prompt.name === 'login') {
      ctx.body = await renderView('login', { uid: details.uid, clientName: client?.clientName ?? client?.clientId, email: '', error: undefined });
      return;
    }
    await renderConsentPage(ctx, { provider, db }, details);
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'login') throw new AppError('invalid_request', 'this sign-in step is not expected now');
    allowFormRedirectTo(ctx, details.params.redirect_uri);
    const { email, password } = loginForm.parse(ctx.request.body ?? {});
    const clientId = String(details.params.client_id);
    const result = await signInWithPassword(db, { email, password, clientId, ...facts(ctx) }, loginThrottle);
    if (!result.ok) {
      if (result.reason === 'bad_credentials') {
        await recordAuditEvent(db, { type: 'login.failed', outcome: 'failure', clientId, ...facts(ctx), details: { reason: 'bad_credentials' } });
      }
      const client = await provider.Client.find(clientId);
      // Throttled: 429 + Retry-After (RFC 6585 §4), the same words whether or not the email has an account.
      const minutes = result.reason === 'throttled' ? Math.ceil(result.retryAfterSeconds / 60) : 0;
      if (result.reason === 'throttled') ctx.set('Retry-After', String(result.retryAfterSeconds));
      ctx.status = result.reason === 'throttled' ? 429 : 401;
      ctx.body = await renderView('login', {
        uid: details.uid, clientName: client?.clientName ?? clientId, email,
        error: result.reason === 'throttled'
          ? `Too many sign-in attempts. Wait ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}, then try again.`
          : 'That email and password do not match an account. Check them and try again.',
      });
      return;
    }
    const { account } = result;
    await recordAuditEvent(db, { type: 'login.succeeded', accountId: account.id, clientId, ...facts(ctx) });
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  });

  registerConsentRoutes(router, { provider, db });
}
