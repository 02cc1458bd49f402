// The one policy rule (issue 12, least privilege from the organisation): from a resource's policies and a
// person's claims, the highest risk class they may approve there, or that they may approve nothing.
import { normaliseHost } from '../cimd/host-name.ts';
import { riskClasses, type Risk } from '../resources/schema.ts';
import { DOMAIN_CLAIM } from './schema.ts';
import type { IdentityClaims, Policy } from './store.ts';

/**
 * - `unrestricted`: the resource has no policy; everything its scopes declare may be approved.
 * - `allowed`: at least one policy matches; scopes up to `maxRisk` may be approved. `policy` is the match
 *   that gave it (the first such, by claim then value), named in every reason and audit event.
 * - `refused`: the resource has policies and none matches this person: nothing on it may be approved.
 */
export type PolicyDecision =
  | { kind: 'unrestricted' }
  | { kind: 'allowed'; maxRisk: Risk; policy: Policy; providers: string[] }
  | { kind: 'refused'; policies: Policy[]; providers: string[] };

export interface PolicySubject { email: string | undefined; identities: IdentityClaims[] }

const rank = (risk: Risk) => riskClasses.indexOf(risk);

/** The account's email domain, in the one host form (src/cimd/host-name.ts) the `domain` policies are stored in. */
export function emailDomainOf(email: string | undefined): string | undefined {
  const at = email?.lastIndexOf('@') ?? -1;
  return at < 0 ? undefined : normaliseHost(email!.slice(at + 1));
}

/**
 * Whether one identity's claims hold `value` under `claim`: equal to a string claim, or a member of a
 * string-array claim (`groups` is the sign-in flow's normalised group list; every other name is the
 * upstream claim of that name). Numbers and booleans compare by their JSON text (`email_verified=true`).
 */
function claimHolds(claims: Record<string, unknown>, claim: string, value: string): boolean {
  const held = claims[claim];
  const spelt = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  return Array.isArray(held) ? held.some((v) => spelt(v) === value) : spelt(held) === value;
}

function matches(policy: Policy, subject: PolicySubject): boolean {
  if (policy.claim === DOMAIN_CLAIM) return emailDomainOf(subject.email) === policy.value;
  return subject.identities.some((identity) => claimHolds(identity.claims, policy.claim, policy.value));
}

export function decidePolicy(policies: readonly Policy[], subject: PolicySubject): PolicyDecision {
  if (policies.length === 0) return { kind: 'unrestricted' };
  const providers = subject.identities.map((i) => i.providerName);
  const matching = policies.filter((p) => matches(p, subject));
  if (matching.length === 0) return { kind: 'refused', policies: [...policies], providers };
  const best = matching.reduce((a, b) => (rank(b.maxRisk) > rank(a.maxRisk) ? b : a));
  return { kind: 'allowed', maxRisk: best.maxRisk, policy: best, providers };
}

/** Whether a scope of this risk class may be approved under the decision. */
export function policyAllows(decision: PolicyDecision, risk: Risk): boolean {
  if (decision.kind === 'unrestricted') return true;
  return decision.kind === 'allowed' && rank(risk) <= rank(decision.maxRisk);
}

/** The plain words a person reads beside a scope the policy withholds. */
export function withheldReason(decision: PolicyDecision, risk: Risk): string {
  if (decision.kind === 'allowed') {
    const { policy } = decision;
    return `Your organisation's policy lets you approve at most ${policy.maxRisk} access here `
      + `(${policy.claim}=${policy.value}, policy ${policy.id}); this permission is ${risk}.`;
  }
  return 'No policy of your organisation lets you approve access to this server.';
}
