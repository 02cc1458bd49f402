// The operator's say over Client ID Metadata Documents, one service under `cimd …`: which domains may serve
// them (stored, so running servers apply a change at once) and forgetting one document; input checked with zod.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import {
  DOMAIN_POLICY_MODES, domainName, loadDomainPolicy, removeDomainRule, setDomainPolicyMode, setDomainRule,
  type ConfiguredDomainPolicy, type DomainRule, type EffectivePolicy,
} from './domain-policy.ts';
import { forgetFailure } from './failure-store.ts';
import { isMetadataDocumentClientId } from './resolver.ts';
import { expireCachedDocument } from './store.ts';

export type { EffectivePolicy };

export const domainPolicyInput = z.strictObject({ mode: z.enum(DOMAIN_POLICY_MODES, `must be one of ${DOMAIN_POLICY_MODES.join(', ')}`) });
export const domainRuleInput = z.strictObject({ domain: domainName, rule: z.enum(['allow', 'deny']) });
export const domainInput = domainRuleInput.pick({ domain: true });
export const documentClientIdInput = z.strictObject({
  clientId: z.string().refine(isMetadataDocumentClientId, 'must be a metadata document URL (https://…)'),
});

/** The policy in force: the CLI's stored mode and rules over the configured ones (CIMD_DOMAIN_POLICY, CIMD_DOMAINS). */
export const readDomainPolicy = (db: Db, configured: ConfiguredDomainPolicy): Promise<EffectivePolicy> => loadDomainPolicy(db, configured);

/** Sets the stored mode (it overrides CIMD_DOMAIN_POLICY); returns the policy now in force. */
export async function setDomainPolicy(db: Db, configured: ConfiguredDomainPolicy, input: unknown): Promise<EffectivePolicy> {
  const { mode } = domainPolicyInput.parse(input);
  await setDomainPolicyMode(db, mode);
  return loadDomainPolicy(db, configured);
}

export interface RuleOutcome {
  domain: string;
  rule: DomainRule;
  policy: EffectivePolicy;
  /** The rule has no effect under the current mode (an allow rule outside allow-list, a deny rule under allow-all). */
  inert: boolean;
}

/** Allows or denies a domain and its subdomains, replacing an earlier CLI rule for it. */
export async function ruleOnDomain(db: Db, configured: ConfiguredDomainPolicy, input: unknown): Promise<RuleOutcome> {
  const { domain, rule } = domainRuleInput.parse(input);
  await setDomainRule(db, domain, rule);
  const policy = await loadDomainPolicy(db, configured);
  const inert = (rule === 'allow' && policy.mode !== 'allow-list') || (rule === 'deny' && policy.mode === 'allow-all');
  return { domain, rule, policy, inert };
}

/** Removes the CLI's rule for a domain (configured CIMD_DOMAINS stay); not_found when there is none. */
export async function removeRuleForDomain(db: Db, input: unknown): Promise<string> {
  const { domain } = domainInput.parse(input);
  if (!(await removeDomainRule(db, domain))) throw new AppError('not_found', `no CLI rule for ${domain}`);
  return domain;
}

export interface ForgottenDocument { clientId: string; documentExpired: boolean; failureForgotten: boolean }

/**
 * Makes the next use of a URL client_id fetch its document again: the cached copy goes stale (it stays the
 * re-consent baseline) and a remembered failure is dropped. not_found when there was neither.
 */
export async function forgetMetadataDocument(db: Db, input: unknown): Promise<ForgottenDocument> {
  const { clientId } = documentClientIdInput.parse(input);
  const documentExpired = await expireCachedDocument(db, clientId);
  const failureForgotten = await forgetFailure(db, clientId);
  if (!documentExpired && !failureForgotten) throw new AppError('not_found', `no cached metadata document or remembered failure for ${clientId}`);
  return { clientId, documentExpired, failureForgotten };
}

/** The policy's one wire form (`cimd list --json` and the others): snake_case names. */
export const domainPolicyJson = (policy: EffectivePolicy) => ({
  mode: policy.mode, mode_source: policy.modeSource,
  domains: policy.rules.map((rule) => ({ domain: rule.domain, rule: rule.rule, source: rule.source })),
});

export const forgottenDocumentJson = (forgotten: ForgottenDocument) =>
  ({ client_id: forgotten.clientId, document_expired: forgotten.documentExpired, failure_forgotten: forgotten.failureForgotten });
