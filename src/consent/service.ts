// The consent service, under the consent page: checks the person's answer (zod), approves exactly what was
// left checked or declines (also when nothing was), records the answer with the person as its actor, and
// says how oidc-provider's interaction finishes. The page's route only parses, calls and renders.
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { recordAuditEvent, type AuditEvent } from '../audit/store.ts';
import { holdAuditEvent } from '../oidc/held-model-writes.ts';
import { AppError } from '../errors.ts';
import { ClaimNotOfferedError } from '../accounts/identity-claims.ts';
import { clearAnsweredFlags } from '../grants/tool-reconsent.ts';
import { buildConsentOffer, grantConsent, ScopeNotOfferedError } from './offer.ts';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export const consentAnswerInput = z.object({
  decision: z.enum(['approve', 'deny']),
  // One checkbox per scope: absent, one value or several.
  scope: z.union([z.string().max(128), z.array(z.string().max(128)).max(100)]).optional()
    .transform((value) => [value ?? []].flat()),
  // One checkbox per identity claim (identity-claims.ts), the same shape.
  claim: z.union([z.string().max(128), z.array(z.string().max(128)).max(20)]).optional()
    .transform((value) => [value ?? []].flat()),
});

export interface ConsentFacts { ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined }

/** How the interaction ends: oidc-provider's result, and whether it merges with the sign-in's. */
export interface ConsentOutcome { result: InteractionResults; mergeWithLastSubmission: boolean }

export async function answerConsent(
  deps: { provider: Provider; db: Db }, details: InteractionDetails, form: unknown, facts: ConsentFacts,
): Promise<ConsentOutcome> {
  const { provider, db } = deps;
  if (details.prompt.name !== 'consent') throw new AppError('invalid_request', 'this consent step is not expected now');
  const parsed = consentAnswerInput.safeParse(form ?? {});
  if (!parsed.success) throw new AppError('invalid_request', 'the consent form was not filled in as expected');
  const { decision, scope: chosen, claim: chosenClaims } = parsed.data;
  const offer = await buildConsentOffer(db, provider, details);
  const clientId = String(details.params.client_id);
  const accountId = details.session?.accountId;
  const actor = accountId ? { type: 'user' as const, id: accountId } : undefined;
  const resource = offer.resource?.uri ?? offer.indicator;
  const reconsentDetails = offer.reconsent.length > 0 ? { reconsent: offer.reconsent.map((f) => f.scope) } : {};
  // Unchecking every new scope approves nothing: that is a deny, not an empty grant.
  if (decision === 'deny' || (chosen.length === 0 && offer.offered.length > 0)) {
    await recordAnswer(db, {
      type: 'consent.denied', outcome: 'failure', actor, accountId, clientId, resource,
      scopes: offer.offered.map((s) => s.scope).join(' ') || undefined, ...facts,
      // Issue 14 §3: a denial leaves the grant as it was and its flags in place, so the next authorization asks again.
      details: { reason: decision === 'deny' ? 'denied' : 'nothing_selected', ...reconsentDetails },
    });
    return {
      result: { error: 'access_denied', error_description: 'The person declined to authorize this request' },
      mergeWithLastSubmission: false,
    };
  }
  const granted = await grantOrRefuse(provider, details, offer, chosen, chosenClaims);
  const grantedEvent: AuditEvent = {
    type: 'consent.granted', actor, accountId, clientId, resource: granted.resource, scopes: granted.scopes.join(' '),
    ...facts, details: {
      grant_id: granted.grantId, declined: granted.declined, kept: granted.kept, claims: granted.claims, declined_claims: granted.declinedClaims,
      ...reconsentDetails,
    },
  };
  // The person saw why they were asked again and approved: the flags shown are cleared with the answer's record.
  if (offer.reconsent.length > 0) {
    await db.transaction(async (tx) => {
      await clearAnsweredFlags(tx, granted.grantId, offer.reconsent);
      await recordAuditEvent(tx, grantedEvent);
    });
  } else {
    await recordAnswer(db, grantedEvent);
  }
  return { result: { consent: { grantId: granted.grantId } }, mergeWithLastSubmission: true };
}

/**
 * The answer's audit row: in the consent step's one statement with the grant it describes, when the page's
 * route holds its writes (src/oidc/held-model-writes.ts); else written now.
 */
async function recordAnswer(db: Db, event: AuditEvent): Promise<void> {
  if (!holdAuditEvent(db, event)) await recordAuditEvent(db, event);
}

/** grantConsent, with a permission the page did not offer refused as the person's bad request. */
async function grantOrRefuse(...args: Parameters<typeof grantConsent>): ReturnType<typeof grantConsent> {
  try {
    return await grantConsent(...args);
  } catch (error) {
    if (error instanceof ScopeNotOfferedError || error instanceof ClaimNotOfferedError) {
      throw new AppError('invalid_request', 'a permission was submitted that this page did not offer');
    }
    throw error;
  }
}
