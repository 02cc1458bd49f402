// The policies service, under the CLI, the console, the consent page, the refresh grant and the ID-JAG grant:
// validates and writes policies with their audit event (operator named), reads them per request (so a change
// the CLI makes is seen by a running server at once), and records each decision that withheld something.
import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/db.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { operatorAuditEvent, type Operator } from '../audit/operator.ts';
import { AppError } from '../errors.ts';
import { findResourceByUri } from '../resources/store.ts';
import type { Resource } from '../resources/schema.ts';
import { decidePolicy, policyAllows, type PolicyDecision } from './evaluate.ts';
import { addPolicyInput, policyId } from './schema.ts';
import {
  deletePolicy, findPolicy, findPolicySubject, insertPolicy, listPolicies, listPoliciesForResource, policyFactsFromJson, type Policy,
} from './store.ts';
import { requestCache } from '../request/adapter-cache.ts';

export type { PolicyDecision };

/** The one wire form of a policy (CLI --json, console). */
export const policyJson = (p: Policy) => ({
  id: p.id, resource: p.resourceUri, claim: p.claim, value: p.value, max_risk: p.maxRisk, created_at: p.createdAt.toISOString(),
});

const policyDetails = (p: Policy) => ({ policy_id: p.id, claim: p.claim, value: p.value, max_risk: p.maxRisk });

export async function addPolicy(db: Db, input: unknown, by: Operator): Promise<Policy> {
  const checked = addPolicyInput.parse(input);
  return db.transaction(async (tx) => {
    if (!(await findResourceByUri(tx, checked.resource))) {
      throw new AppError('resource_not_found', `no resource ${checked.resource} is registered; register it first (resource add)`);
    }
    const { claim, value } = checked.claim;
    if (await findPolicy(tx, checked.resource, claim, value)) {
      throw new AppError('policy_exists', `a policy for ${claim}=${value} on ${checked.resource} exists; remove it first to change its max risk`);
    }
    const policy = await insertPolicy(tx, {
      id: `pol_${randomBytes(8).toString('hex')}`, resourceUri: checked.resource, claim, value, maxRisk: checked.maxRisk,
    }).catch((error: unknown) => {
      // Two operators adding the same rule at once: the unique key decides (SQLSTATE 23505).
      if ((error as { code?: string }).code === '23505') throw new AppError('policy_exists', `a policy for ${claim}=${value} on ${checked.resource} exists`);
      throw error;
    });
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'policy.added', resource: policy.resourceUri, details: policyDetails(policy) }));
    return policy;
  });
}

export async function removePolicy(db: Db, id: unknown, by: Operator): Promise<Policy> {
  const checked = policyId.parse(id);
  return db.transaction(async (tx) => {
    const removed = await deletePolicy(tx, checked);
    if (!removed) throw new AppError('policy_not_found', `no policy ${checked}`);
    await recordAuditEvent(tx, operatorAuditEvent(by, { type: 'policy.removed', resource: removed.resourceUri, details: policyDetails(removed) }));
    return removed;
  });
}

export const listAllPolicies = (db: Queryable) => listPolicies(db);

/**
 * What this person may approve on this resource, read from the database now (no cache: issue 12). A token
 * request read the same facts with its token (src/oidc/token-prefetch.ts), an authorization request or a
 * consent page with its session (authorization-prefetch.ts): in this same request, so they are used.
 */
export async function decidePolicyFor(db: Queryable, accountId: string, resourceUri: string): Promise<PolicyDecision> {
  const prefetched = requestCache.getPolicyFacts();
  const account = requestCache.getAccount(accountId);
  if (prefetched && prefetched.resourceUri === resourceUri && prefetched.accountId === accountId && account) {
    const facts = policyFactsFromJson(prefetched.policies, prefetched.identities);
    return decidePolicy(facts.policies, { email: account.email, identities: facts.identities });
  }
  const policies = await listPoliciesForResource(db, resourceUri);
  if (policies.length === 0) return { kind: 'unrestricted' };
  return decidePolicy(policies, await findPolicySubject(db, accountId));
}

/** Splits scopes into those the decision allows and those it withholds, by their declared risk. */
export function partitionScopes(decision: PolicyDecision, resource: Resource | undefined, scopes: readonly string[]) {
  const risks = new Map((resource?.scopes ?? []).map((s) => [s.scope, s.risk]));
  const allowed: string[] = [];
  const withheld: string[] = [];
  for (const scope of scopes) {
    const risk = risks.get(scope);
    // A scope the resource does not declare (openid, offline_access) is no permission at it: oidc-provider
    // never puts one in the resource's token, so the policy has nothing to say about it.
    (risk === undefined || policyAllows(decision, risk) ? allowed : withheld).push(scope);
  }
  return { allowed, withheld };
}

export interface WithheldFacts {
  accountId: string; clientId?: string | undefined; resource: string; scopes: string[];
  /** Where the decision was made: the consent page, a refresh, an ID-JAG exchange, or an authorization request. */
  at: 'consent' | 'refresh' | 'id_jag' | 'authorization';
  /** The standing grant these scopes were taken out of (policy.grant_narrowed), if any. */
  narrowedGrantId?: string | undefined;
  ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined;
}

/** The audit event of a decision that withheld scopes (or the whole resource), naming the policy and providers. */
export async function recordPolicyWithheld(db: Queryable, decision: PolicyDecision, facts: WithheldFacts): Promise<void> {
  if (decision.kind === 'unrestricted') return;
  const { accountId, clientId, resource, scopes, at, narrowedGrantId, ip, userAgent, requestId } = facts;
  await recordAuditEvent(db, {
    type: decision.kind === 'refused' ? 'policy.resource_refused' : narrowedGrantId ? 'policy.grant_narrowed' : 'policy.scope_withheld',
    outcome: 'failure', actor: { type: 'system' }, accountId, clientId, resource, scopes: scopes.join(' ') || undefined,
    ip, userAgent, requestId,
    details: {
      at, ...(narrowedGrantId ? { grant_id: narrowedGrantId } : {}), providers: decision.providers,
      ...(decision.kind === 'allowed'
        ? { decision: 'max_risk', ...policyDetails(decision.policy) }
        : { decision: 'no_matching_policy', policy_ids: decision.policies.map((p) => p.id) }),
    },
  });
}
