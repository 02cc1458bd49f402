// Which domains may serve Client ID Metadata Documents: the operator's policy, from configuration
// (CIMD_DOMAIN_POLICY, CIMD_DOMAINS) and from the CLI (stored, so a running server sees changes at once).
import { z } from 'zod';
import type { Queryable } from '../db/db.ts';
import { normaliseHost } from './host-name.ts';

export const DOMAIN_POLICY_MODES = ['allow-all', 'allow-list', 'deny-list'] as const;
export type DomainPolicyMode = typeof DOMAIN_POLICY_MODES[number];
export type DomainRule = 'allow' | 'deny';

/**
 * A domain as operators write it, any case, a trailing dot or Unicode (IDN) allowed; kept in the one
 * comparable form (host-name.ts), so `Bücher.DE.` and `xn--bcher-kva.de` are one rule. No scheme, port or path.
 */
export const domainName = z.string().trim().transform((domain) => normaliseHost(domain) ?? domain.toLowerCase())
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a domain name such as example.com (no scheme, port or path)'));

export interface ConfiguredDomainPolicy {
  mode: DomainPolicyMode;
  /** CIMD_DOMAINS: the allow-list or the deny-list, whichever `mode` names. */
  domains: string[];
}

export interface EffectivePolicy {
  mode: DomainPolicyMode;
  /** Where the mode comes from: the CLI (stored) overrides configuration. */
  modeSource: 'config' | 'cli';
  rules: Array<{ domain: string; rule: DomainRule; source: 'config' | 'cli' }>;
}

/** A rule for example.com covers example.com and every name under it (app.example.com). */
export const domainCovers = (domain: string, host: string) => host === domain || host.endsWith(`.${domain}`);

export async function loadDomainPolicy(db: Queryable, configured: ConfiguredDomainPolicy): Promise<EffectivePolicy> {
  const { rows } = await db.query<{ kind: string; domain: string | null; value: string }>(
    `SELECT 'mode' AS kind, NULL AS domain, mode AS value FROM client_metadata_document_policy
     UNION ALL SELECT 'rule', domain, rule FROM client_metadata_document_domains ORDER BY 2`,
  );
  const stored = rows.find((row) => row.kind === 'mode');
  const configRule: DomainRule | undefined = configured.mode === 'allow-list' ? 'allow' : configured.mode === 'deny-list' ? 'deny' : undefined;
  const cliRules = rows.filter((row) => row.kind === 'rule').map((row) => ({ domain: row.domain!, rule: row.value as DomainRule, source: 'cli' as const }));
  // A domain the CLI has ruled on is decided by that rule; the configured list fills in the rest.
  const configRules = configRule
    ? configured.domains.filter((domain) => !cliRules.some((rule) => rule.domain === domain)).map((domain) => ({ domain, rule: configRule, source: 'config' as const }))
    : [];
  return {
    mode: (stored?.value as DomainPolicyMode | undefined) ?? configured.mode,
    modeSource: stored ? 'cli' : 'config',
    rules: [...configRules, ...cliRules].sort((a, b) => a.domain.localeCompare(b.domain)),
  };
}

/** Whether `host` may serve a metadata document under `policy`; a host that is no name is refused. */
export function isDomainAllowed(policy: EffectivePolicy, host: string): boolean {
  const name = normaliseHost(host);
  if (name === undefined) return false;
  const ruled = (rule: DomainRule) => policy.rules.some((entry) => entry.rule === rule && domainCovers(entry.domain, name));
  if (policy.mode === 'allow-list') return ruled('allow') && !ruled('deny');
  if (policy.mode === 'deny-list') return !ruled('deny');
  return true;
}

export async function setDomainPolicyMode(db: Queryable, mode: DomainPolicyMode): Promise<void> {
  await db.query(
    `INSERT INTO client_metadata_document_policy (singleton, mode) VALUES (true, $1)
     ON CONFLICT (singleton) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()`, [mode]);
}

/** Records an allow or deny rule for a domain, replacing any earlier rule for it. */
export async function setDomainRule(db: Queryable, domain: string, rule: DomainRule): Promise<void> {
  await db.query(
    `INSERT INTO client_metadata_document_domains (domain, rule) VALUES ($1, $2)
     ON CONFLICT (domain) DO UPDATE SET rule = EXCLUDED.rule, created_at = now()`, [domain, rule]);
}

/** Removes the CLI's rule for a domain; true if there was one. */
export async function removeDomainRule(db: Queryable, domain: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM client_metadata_document_domains WHERE domain = $1', [domain]);
  return rowCount > 0;
}
