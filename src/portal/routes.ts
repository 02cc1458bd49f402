// The grants portal /account over HTTP: sign in with the authorization flow's own session, see and
// revoke what you have granted, sign out here or everywhere. Every change is POST → 303 (PRG).
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import type { LoginThrottle } from '../accounts/login-throttle.ts';
import { AppError } from '../errors.ts';
import {
  accountAccessOverview, clientRevocationInput, grantRevocationInput, revokeClientGrantsOfAccount, revokeGrantOfAccount,
} from '../grants/service.ts';
import { requestFacts } from '../http/request-facts.ts';
import { downstreamServicesOfGrants, withdrawDownstreamService } from '../exchange/downstream.ts';
import { presentToolCall, toolCallsOfGrants } from '../tools/calls.ts';
import { submitSignInForm } from '../http/sign-in-form.ts';
import { formatTime, renderView } from '../views.ts';
import { groupGrantsByClient, presentGrant, presentSecurityEvent, SECURITY_EVENT_TYPES } from './presenters.ts';
import { currentAccount, signInSession, signOutEverywhere, signOutSession } from '../oidc/sign-in-session.ts';
import { latestSignInProvider, listLinkedIdentities, unlinkIdentity, upstreamLogoutLink } from '../federation/identities.ts';
import { providerName } from '../federation/schema.ts';
import { signInChoices } from '../federation/routing.ts';
import { findProviderByName } from '../federation/store.ts';
import { redirectToProvider, type BindingDeps } from '../http/federation-binding.ts';
import { z } from 'zod';

export interface PortalDeps { provider: Provider; db: Db; mountPath: string; loginThrottle: LoginThrottle; federation: BindingDeps }

const unlinkInput = z.object({ provider_id: z.string().min(1).max(100) });
const federationInput = z.object({ provider: providerName });


// Status messages are chosen by key: nothing from the query string is ever shown on the page.
const STATUS_MESSAGES: Record<string, string> = {
  'grant-revoked': 'Access revoked. The application can no longer get new tokens; an access token it already holds stops working when it expires, within minutes.',
  'client-revoked': 'Every access you gave that application is revoked. Access tokens it already holds stop working when they expire, within minutes.',
  'downstream-withdrawn': 'That service will no longer be called for you under this access; tokens already given for it stop working now.',
  'signed-out': 'You are signed out in this browser.',
  'signed-out-everywhere': 'You are signed out in every browser. Applications you connected keep their access until you revoke it.',
  'signed-in': 'You are signed in.',
  'identity-unlinked': 'The identity is unlinked. It can no longer sign you in here.',
};

// Personal data and one-time status messages: never cached, by the browser or anything in between.
const noStore: Koa.Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  await next();
};
const statusMessage = (ctx: Koa.Context) => STATUS_MESSAGES[String(ctx.query.status ?? '')];

export function registerPortalRoutes(router: Router, { provider, db, mountPath, loginThrottle, federation }: PortalDeps): void {
  const { upstream } = federation.flow;
  const accountUrl = (status?: string, idp?: string) => `${mountPath}/account${status ? `?status=${status}` : ''}${idp ? `&idp=${idp}` : ''}`;
  const seeOther = (ctx: Koa.Context, status?: string, idp?: string) => {
    ctx.redirect(accountUrl(status, idp));
    ctx.status = 303;
  };
  /** The signed-in account, or a 303 back to the sign-in form (nothing is changed for nobody). */
  const requireAccount = async (ctx: Koa.Context) => {
    const account = await currentAccount(provider, db, ctx);
    if (!account) seeOther(ctx);
    return account;
  };

  router.get('/account', noStore, async (ctx) => {
    const account = await currentAccount(provider, db, ctx);
    if (!account) {
      // After signing out: the provider's own sign-out, offered (never followed by itself). The name picks a
      // configured provider; nothing of the query string itself is shown.
      const idp = ctx.query.status === 'signed-out' ? providerName.safeParse(ctx.query.idp) : undefined;
      const upstreamLogout = idp?.success ? await upstreamLogoutLink(db, upstream, idp.data) : undefined;
      ctx.body = await renderView('account-login', {
        email: '', error: undefined, status: statusMessage(ctx), upstreamLogout, identityProviders: await signInChoices(db),
      });
      return;
    }
    const { grants, events } = await accountAccessOverview(db, account.id, SECURITY_EVENT_TYPES, 20);
    const downstream = await downstreamServicesOfGrants(db, grants);
    const toolCalls = await toolCallsOfGrants(db, account.id, grants);
    ctx.body = await renderView('account', {
      email: account.email,
      clients: groupGrantsByClient(grants.map((grant) => ({
        ...presentGrant(grant), downstream: downstream.get(grant.grantId) ?? [],
        toolCalls: (toolCalls.get(grant.grantId) ?? []).map((call) => presentToolCall(call, formatTime)),
      }))),
      identities: (await listLinkedIdentities(db, account.id)).map((i) => ({
        providerId: i.providerId, displayName: i.providerDisplayName, email: i.email, disabled: i.providerDisabled,
        linkedAt: formatTime(i.linkedAt), lastSignInAt: i.lastSignInAt ? formatTime(i.lastSignInAt) : undefined,
      })),
      events: events.map(presentSecurityEvent),
      status: statusMessage(ctx),
    });
  });

  router.post('/account/login', noStore, async (ctx) => {
    const account = await submitSignInForm(ctx, { db, loginThrottle }, { via: 'account' },
      async ({ email, error }) => renderView('account-login', { email, error, status: undefined, upstreamLogout: undefined, identityProviders: await signInChoices(db) }));
    if (!account) return;
    await signInSession(provider, ctx, account.id);
    seeOther(ctx);
  });

  // "Continue with …" at /account: the same round trip, for no application; the callback starts the session.
  router.post('/account/federation', noStore, async (ctx) => {
    const { provider: name } = federationInput.parse(ctx.request.body ?? {});
    const idp = await findProviderByName(db, name);
    if (!idp) throw new AppError('identity_provider_not_found', 'There is no such identity provider here.');
    await redirectToProvider(ctx, federation, idp, null);
  });

  router.post('/account/logout', noStore, async (ctx) => {
    const account = await currentAccount(provider, db, ctx);
    const idp = account ? await latestSignInProvider(db, account.id) : undefined;
    await signOutSession(provider, ctx, { db, via: 'account', facts: requestFacts(ctx) });
    seeOther(ctx, 'signed-out', idp);
  });

  router.post('/account/identities/unlink', noStore, async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const { provider_id: providerId } = unlinkInput.parse(ctx.request.body ?? {});
    await unlinkIdentity(db, account.id, providerId, requestFacts(ctx));
    seeOther(ctx, 'identity-unlinked');
  });

  router.post('/account/grants/revoke', noStore, async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const { grant_id: grantId } = grantRevocationInput.parse(ctx.request.body ?? {});
    // Someone else's grant and no grant look the same: 404, and nothing is touched.
    if (!(await revokeGrantOfAccount(provider, db, account.id, grantId, requestFacts(ctx)))) {
      throw new AppError('not_found', 'There is no such access on your account. It may have been revoked already.');
    }
    seeOther(ctx, 'grant-revoked');
  });

  // Token exchange (issue 13 §3): one downstream service withdrawn from one grant.
  router.post('/account/grants/downstream/revoke', noStore, async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    await withdrawDownstreamService(db, account.id, ctx.request.body ?? {}, requestFacts(ctx));
    seeOther(ctx, 'downstream-withdrawn');
  });

  router.post('/account/clients/revoke', noStore, async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const { client_id: clientId } = clientRevocationInput.parse(ctx.request.body ?? {});
    if ((await revokeClientGrantsOfAccount(provider, db, account.id, clientId, requestFacts(ctx))) === 0) {
      throw new AppError('not_found', 'That application has no access on your account. It may have been revoked already.');
    }
    seeOther(ctx, 'client-revoked');
  });

  router.post('/account/sessions/revoke', noStore, async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    await signOutEverywhere(provider, ctx, account.id, { db, via: 'account', facts: requestFacts(ctx) });
    seeOther(ctx, 'signed-out-everywhere');
  });
}
