// The login and consent pages oidc-provider sends people to (`interactions.url`), wired through its
// documented interaction API: interactionDetails → our decision → interactionFinished. The login page offers
// each enabled identity provider ("Continue with …") and routes an email whose domain belongs to one to it.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import type { LoginThrottle } from '../accounts/login-throttle.ts';
import { signInFormSchema } from '../accounts/schema.ts';
import { AppError } from '../errors.ts';
import { renderView } from '../views.ts';
import { allowFormRedirectTo } from '../http/security-headers.ts';
import { submitSignInForm, type RefusedSignIn } from '../http/sign-in-form.ts';
import { providerForEmail, signInChoices } from '../federation/routing.ts';
import type { FlowDeps } from '../federation/flow.ts';
import { registerConsentRoutes, renderConsentPage } from './consent-routes.ts';
import { registerFederationRoutes } from './federation-routes.ts';
import { redirectToProvider } from '../http/federation-binding.ts';

export interface InteractionDeps { provider: Provider; db: Db; loginThrottle: LoginThrottle; flow: FlowDeps; mountPath: string; secure: boolean }

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

async function loginPage(deps: InteractionDeps, details: InteractionDetails, shown: RefusedSignIn | undefined): Promise<string> {
  const clientId = String(details.params.client_id);
  const client = await deps.provider.Client.find(clientId);
  return renderView('login', {
    uid: details.uid, clientName: client?.clientName ?? clientId, email: shown?.email ?? '', error: shown?.error,
    identityProviders: await signInChoices(deps.db),
  });
}

export function registerInteractionRoutes(router: Router, deps: InteractionDeps): void {
  const { provider, db, loginThrottle } = deps;
  const loginDetails = async (ctx: Koa.Context) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'login') throw new AppError('invalid_request', 'this sign-in step is not expected now');
    return details;
  };

  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new AppError('invalid_request', 'interaction mismatch');
    allowFormRedirectTo(ctx, details.params.redirect_uri);
    if (details.prompt.name === 'login') {
      ctx.body = await loginPage(deps, details, undefined);
      return;
    }
    await renderConsentPage(ctx, { provider, db }, details);
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const details = await loginDetails(ctx);
    allowFormRedirectTo(ctx, details.params.redirect_uri);
    const form = signInFormSchema.parse(ctx.request.body ?? {});
    // Email first: an address whose domain belongs to an enabled provider goes to it, without a password
    // (and always, when the domain is SSO only: its password is never looked at).
    const routed = form.email ? await providerForEmail(db, form.email) : undefined;
    if (routed && !routed.disabledAt && (routed.ssoOnly || form.password === '')) {
      await redirectToProvider(ctx, deps, routed, details.uid, form.email);
      return;
    }
    const clientId = String(details.params.client_id);
    const account = await submitSignInForm(ctx, { db, loginThrottle }, { via: 'authorization', clientId }, (shown) => loginPage(deps, details, shown));
    if (!account) return;
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  });

  registerFederationRoutes(router, deps);
  registerConsentRoutes(router, { provider, db });
}
