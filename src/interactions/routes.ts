// The login and consent pages oidc-provider sends people to (`interactions.url`), wired through its
// documented interaction API: interactionDetails → our decision → interactionFinished.
import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import type { LoginThrottle } from '../accounts/login-throttle.ts';
import { AppError } from '../errors.ts';
import { renderView } from '../views.ts';
import { allowFormRedirectTo } from '../http/security-headers.ts';
import { submitSignInForm } from '../http/sign-in-form.ts';
import { registerConsentRoutes, renderConsentPage } from './consent-routes.ts';

export interface InteractionDeps { provider: Provider; db: Db; loginThrottle: LoginThrottle }

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
    const clientId = String(details.params.client_id);
    const account = await submitSignInForm(ctx, { db, loginThrottle }, { via: 'authorization', clientId }, async ({ email, error }) => {
      const client = await provider.Client.find(clientId);
      return renderView('login', { uid: details.uid, clientName: client?.clientName ?? clientId, email, error });
    });
    if (!account) return;
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  });

  registerConsentRoutes(router, { provider, db });
}
