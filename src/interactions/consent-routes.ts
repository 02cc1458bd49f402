// The consent page and its answer: render the offer (src/consent/offer.ts), then hand the answer to the
// consent service (src/consent/service.ts), which approves or declines it and records it.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { renderView } from '../views.ts';
import { buildConsentOffer, describeConsent } from '../consent/offer.ts';
import { answerConsent } from '../consent/service.ts';
import { downstreamServicesOf } from '../exchange/downstream.ts';
import { requestFacts } from '../http/request-facts.ts';
import { approvedToolsByScope } from '../tools/consent-tools.ts';
import { holdingModelWrites } from '../oidc/held-model-writes.ts';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface ConsentDeps { provider: Provider; db: Db }

export async function renderConsentPage(ctx: Koa.Context, { provider, db }: ConsentDeps, details: InteractionDetails) {
  const client = await provider.Client.find(String(details.params.client_id));
  const offer = await buildConsentOffer(db, provider, details);
  // Token exchange (issue 13 §3): the downstream services this resource calls for the person; issue 14 §5: the
  // approved tools behind each scope, in words. Read together: one round trip's wait for both.
  const [downstream, scopeTools] = offer.resource
    ? await Promise.all([downstreamServicesOf(db, offer.resource.uri), approvedToolsByScope(db, offer.resource.uri)]) : [[], {}];
  ctx.body = await renderView('consent', { uid: details.uid, ...(await describeConsent(offer, details, client)), downstream, scopeTools });
}

export function registerConsentRoutes(router: Router, deps: ConsentDeps): void {
  const { provider } = deps;
  // The grant, the interaction's result and the answer's audit row are written in one statement
  // (held-model-writes.ts) before the redirect back to the authorization leaves.
  router.post('/interaction/:uid/confirm', async (ctx) => {
    const returnTo = await holdingModelWrites(deps.db, ctx, async () => {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== ctx.params.uid) throw new AppError('invalid_request', 'this consent step is not expected now');
      const outcome = await answerConsent(deps, details, ctx.request.body, requestFacts(ctx));
      return provider.interactionResult(ctx.req, ctx.res, outcome.result, { mergeWithLastSubmission: outcome.mergeWithLastSubmission });
    });
    ctx.redirect(returnTo);
    ctx.status = 303;
  });
}
