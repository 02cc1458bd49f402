// Sign-in through an identity provider from the interaction's login page: "Continue with …" (POST
// /interaction/:uid/federation) and the provider's answer at ISSUER/federation/callback. Parses, calls
// src/federation/flow.ts, and hands the account to oidc-provider's interaction as the login result.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { requestFacts } from '../http/request-facts.ts';
import { finishFederatedSignIn, startFederatedSignIn, ATTEMPT_TTL_SECONDS, type FlowDeps } from '../federation/flow.ts';
import { providerName } from '../federation/schema.ts';
import { findProviderByName, type IdentityProvider } from '../federation/store.ts';

export interface FederationRouteDeps { provider: Provider; flow: FlowDeps; mountPath: string; secure: boolean }

const CALLBACK_PATH = '/federation/callback';
/** The browser binding of an attempt: its state, in a signed cookie only the callback sees (login CSRF). */
const BINDING_COOKIE = 'portcullis_federation';
const startForm = z.object({ provider: providerName });

const bindingCookieOptions = (deps: FederationRouteDeps) => ({
  // Lax: the provider's redirect back is a top-level GET navigation from its site, which Lax cookies ride on.
  httpOnly: true, sameSite: 'lax', secure: deps.secure, signed: true, overwrite: true, path: `${deps.mountPath}${CALLBACK_PATH}`,
} as const);

/** Sends the browser to the provider for this login interaction (303), bound to this browser by a cookie. */
export async function redirectToProvider(
  ctx: Koa.Context, deps: FederationRouteDeps, idp: IdentityProvider, interactionUid: string, loginHint?: string,
): Promise<void> {
  const started = await startFederatedSignIn(deps.flow, idp, interactionUid, loginHint, requestFacts(ctx));
  ctx.cookies.set(BINDING_COOKIE, started.state, { ...bindingCookieOptions(deps), maxAge: ATTEMPT_TTL_SECONDS * 1000 });
  ctx.status = 303;
  ctx.redirect(started.authorizationUrl);
}

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

  router.get(CALLBACK_PATH, async (ctx) => {
    const boundState = ctx.cookies.get(BINDING_COOKIE, { signed: true });
    // The binding is spent with the attempt, whatever the outcome.
    ctx.cookies.set(BINDING_COOKIE, null, bindingCookieOptions(deps));
    const finished = await finishFederatedSignIn(deps.flow, { query: ctx.querystring, boundState }, requestFacts(ctx));
    // The interaction the attempt was made for, still waiting for its login: oidc-provider's own model, given
    // its result as interactionFinished would (that reads the interaction cookie, scoped to /interaction/:uid).
    const interaction = await provider.Interaction.find(finished.interactionUid);
    if (!interaction || interaction.prompt.name !== 'login') {
      throw new AppError('federation_refused', 'You are signed in, but the application\'s sign-in request expired meanwhile. Go back to the application and start again.');
    }
    interaction.result = { login: { accountId: finished.account.id } };
    await interaction.persist();
    ctx.status = 303;
    ctx.redirect(interaction.returnTo);
  });
}
