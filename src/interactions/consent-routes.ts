// The consent page and its answer: render the offer, then approve exactly what was left checked, or
// deny (also when nothing was left checked). Every answer is recorded for the audit trail.
import type Router from '@koa/router';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { AppError } from '../errors.ts';
import { renderView } from '../views.ts';
import { buildConsentOffer, describeConsent, grantConsent, ScopeNotOfferedError } from './consent.ts';
import { ClaimNotOfferedError } from '../accounts/identity-claims.ts';
import { requestFacts } from '../http/request-facts.ts';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

const consentForm = z.object({
  decision: z.enum(['approve', 'deny']),
  // One checkbox per scope: absent, one value or several.
  scope: z.union([z.string().max(128), z.array(z.string().max(128)).max(100)]).optional()
    .transform((value) => [value ?? []].flat()),
  // One checkbox per identity claim (identity-claims.ts), the same shape.
  claim: z.union([z.string().max(128), z.array(z.string().max(128)).max(20)]).optional()
    .transform((value) => [value ?? []].flat()),
});

export interface ConsentDeps { provider: Provider; db: Db }

export async function renderConsentPage(ctx: Koa.Context, { provider, db }: ConsentDeps, details: InteractionDetails) {
  const client = await provider.Client.find(String(details.params.client_id));
  const offer = await buildConsentOffer(db, provider, details);
  ctx.body = await renderView('consent', { uid: details.uid, ...(await describeConsent(offer, details, client)) });
}

export function registerConsentRoutes(router: Router, deps: ConsentDeps): void {
  const { provider, db } = deps;
  router.post('/interaction/:uid/confirm', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid || details.prompt.name !== 'consent') throw new AppError('invalid_request', 'this consent step is not expected now');
    const form = consentForm.safeParse(ctx.request.body ?? {});
    if (!form.success) throw new AppError('invalid_request', 'the consent form was not filled in as expected');
    const { decision, scope: chosen, claim: chosenClaims } = form.data;
    const offer = await buildConsentOffer(db, provider, details);
    const clientId = String(details.params.client_id);
    const accountId = details.session?.accountId;
    const resource = offer.resource?.uri ?? offer.indicator;
    // Unchecking every new scope approves nothing: that is a deny, not an empty grant.
    if (decision === 'deny' || (chosen.length === 0 && offer.offered.length > 0)) {
      await recordAuditEvent(db, {
        type: 'consent.denied', outcome: 'failure', accountId, clientId, resource,
        scopes: offer.offered.map((s) => s.scope).join(' ') || undefined, ...requestFacts(ctx),
        details: { reason: decision === 'deny' ? 'denied' : 'nothing_selected' },
      });
      await provider.interactionFinished(ctx.req, ctx.res,
        { error: 'access_denied', error_description: 'The person declined to authorize this request' },
        { mergeWithLastSubmission: false });
      return;
    }
    let granted: Awaited<ReturnType<typeof grantConsent>>;
    try {
      granted = await grantConsent(provider, details, offer, chosen, chosenClaims);
    } catch (error) {
      if (error instanceof ScopeNotOfferedError || error instanceof ClaimNotOfferedError) {
        throw new AppError('invalid_request', 'a permission was submitted that this page did not offer');
      }
      throw error;
    }
    await recordAuditEvent(db, {
      type: 'consent.granted', accountId, clientId, resource: granted.resource, scopes: granted.scopes.join(' '),
      ...requestFacts(ctx), details: {
        grant_id: granted.grantId, declined: granted.declined, kept: granted.kept, claims: granted.claims, declined_claims: granted.declinedClaims,
      },
    });
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: granted.grantId } }, { mergeWithLastSubmission: true });
  });
}
