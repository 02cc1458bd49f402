// Sign-in through an identity provider from the interaction's login page: "Continue with …" (POST
// /interaction/:uid/federation) and the provider's answer at ISSUER/federation/callback. Parses, calls
// src/federation/flow.ts, and hands the account to oidc-provider's interaction as the login result, or,
// for a sign-in started at /account, starts the browser's session and returns there.
import type Router from '@koa/router';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { requestFacts } from '../http/request-facts.ts';
import { FEDERATION_CALLBACK_PATH, redirectToProvider, takeBoundState, type BindingDeps } from '../http/federation-binding.ts';
import { finishFederatedSignIn } from '../federation/flow.ts';
import { providerName } from '../federation/schema.ts';
import { findProviderByName } from '../federation/store.ts';
import { signInSession } from '../oidc/sign-in-session.ts';

export interface FederationRouteDeps extends BindingDeps { provider: Provider }

export const startForm = z.object({ provider: providerName });

export function registerFederationRoutes(router: Router, deps: FederationRouteDeps): void {
  const { provider } = deps;

  router.post('/interaction/:uid/federation', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'login') throw new AppError('invalid_request', 'this sign-in step is not expected now');
    const { provider: name } = startForm.parse(ctx.request.body ?? {});
    const idp = await findProviderByName(deps.flow.db, name);
    if (!idp) throw new AppError('identity_provider_not_found', 'There is no such identity provider here.');
    await redirectToProvider(ctx, deps, idp, details.uid);
  });

  router.get(FEDERATION_CALLBACK_PATH, async (ctx) => {
    const boundState = takeBoundState(ctx, deps);
    const finished = await finishFederatedSignIn(deps.flow, { query: ctx.querystring, boundState }, requestFacts(ctx));
    if (finished.interactionUid === null) {
      await signInSession(provider, ctx, finished.account.id);
      ctx.status = 303;
      ctx.redirect(`${deps.mountPath}/account?status=signed-in`);
      return;
    }
    // The interaction the attempt was made for, still waiting for its login: oidc-provider's own model, given
    // its result as interactionFinished would (that reads the interaction cookie, scoped to /interaction/:uid).
    const interaction = await provider.Interaction.find(finished.interactionUid);
    if (!interaction || interaction.prompt.name !== 'login') {
      throw new AppError('federation_refused', 'The application\'s sign-in request expired meanwhile. Go back to the application and start again.');
    }
    interaction.result = { login: { accountId: finished.account.id } };
    await interaction.persist();
    ctx.status = 303;
    ctx.redirect(interaction.returnTo);
  });
}
