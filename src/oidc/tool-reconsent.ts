// Issue 14 §3: a grant whose scope gained tools of a higher risk since the person agreed (src/tools/reconsent.ts)
// is not covered any more. Its next authorization for that resource shows the consent page again, with prompt=none
// answered consent_required; the page says why (src/consent/offer.ts) and the person's approval clears the flag.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/db.ts';
import { reconsentFlagsOf } from '../grants/tool-reconsent.ts';
import type { ResourceDirectory } from './resource-servers.ts';

const { Check } = interactionPolicy;
type Policy = ReturnType<typeof interactionPolicy.base>;

function scopeGainedRiskierToolsCheck(db: Db, resources: ResourceDirectory) {
  return new Check(
    'scope_gained_riskier_tools',
    'a scope of this grant gained tools of a higher risk since consent was given',
    'consent_required',
    async (ctx: KoaContextWithOIDC) => {
      // The person has answered the consent page of this very request (which showed the notice): do not loop.
      if (ctx.oidc.result?.consent) return false;
      const grant = ctx.oidc.grant;
      const grantId = grant?.jti;
      if (!grant || typeof grantId !== 'string') return false;
      for (const indicator of Object.keys(ctx.oidc.resourceServers ?? {})) {
        const resource = await resources.find(indicator);
        if (!resource) continue;
        // Only a scope the grant still holds here: one narrowed away since (policy, portal) is no question to ask.
        const held = new Set(grant.getResourceScope(indicator).split(' '));
        if ((await reconsentFlagsOf(db, grantId, resource.uri)).some((f) => held.has(f.scope))) return true;
      }
      return false;
    },
  );
}

/** Adds the check to the consent prompt of an interaction policy. */
export function withToolReconsent(policy: Policy, db: Db, resources: ResourceDirectory): Policy {
  const consent = policy.get('consent');
  if (!consent) throw new Error('interaction policy has no consent prompt');
  consent.checks.add(scopeGainedRiskierToolsCheck(db, resources));
  return policy;
}
