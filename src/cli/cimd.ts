// `cimd policy|allow|deny|remove|list`: which domains may serve Client ID Metadata Documents. Stored in
// the database, so a running server applies a change to its next authorization, without a restart.
// `cimd forget`: the next use of one client_id fetches its document again.
import type { Config } from '../config.ts';
import type { Queryable } from '../db/db.ts';
import {
  DOMAIN_POLICY_MODES, domainName, loadDomainPolicy, removeDomainRule, setDomainPolicyMode, setDomainRule,
  type DomainPolicyMode, type DomainRule, type EffectivePolicy,
} from '../cimd/domain-policy.ts';
import { forgetFailure } from '../cimd/failure-store.ts';
import { isMetadataDocumentClientId } from '../cimd/resolver.ts';
import { expireCachedDocument } from '../cimd/store.ts';
import { UsageError, type ParsedArgs } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

function parseDomain(command: string, args: ParsedArgs): string {
  const parsed = domainName.safeParse(args.required('domain'));
  if (!parsed.success) throw new UsageError(`${command}: --domain ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

async function describePolicy(db: Queryable, config: Config) {
  const policy = await loadDomainPolicy(db, config.cimd.domainPolicy);
  return { policy, json: policyJson(policy), text: policyText(policy) };
}

const policyJson = (policy: EffectivePolicy) => ({
  mode: policy.mode, mode_source: policy.modeSource,
  domains: policy.rules.map((rule) => ({ domain: rule.domain, rule: rule.rule, source: rule.source })),
});

function policyText(policy: EffectivePolicy): string {
  const meaning: Record<DomainPolicyMode, string> = {
    'allow-all': 'any domain may serve a client metadata document (deny rules do not apply)',
    'allow-list': 'only allowed domains (and their subdomains) may serve one',
    'deny-list': 'any domain except denied ones (and their subdomains) may serve one',
  };
  const table = formatTable(['DOMAIN', 'RULE', 'SOURCE'], policy.rules.map((r) => [r.domain, r.rule, r.source]), 'No domain rules.');
  return `Policy: ${policy.mode} (from ${policy.modeSource === 'cli' ? 'the CLI' : 'configuration'}): ${meaning[policy.mode]}\n${table}`;
}

const cimdPolicy: CommandSpec = {
  name: 'cimd policy',
  usage: `[--mode ${DOMAIN_POLICY_MODES.join('|')}]`,
  summary: 'show, or set with --mode, which domains may serve client metadata documents (overrides CIMD_DOMAIN_POLICY)',
  options: { mode: { type: 'string' } },
  async run({ db, config }, args) {
    const mode = args.string('mode');
    if (mode !== undefined) {
      if (!(DOMAIN_POLICY_MODES as readonly string[]).includes(mode)) {
        throw new UsageError(`${this.name}: --mode must be one of ${DOMAIN_POLICY_MODES.join(', ')}`);
      }
      await setDomainPolicyMode(db, mode as DomainPolicyMode);
    }
    const { json, text } = await describePolicy(db, config);
    return { json, text };
  },
};

function ruleCommand(rule: DomainRule): CommandSpec {
  return {
    name: `cimd ${rule}`,
    usage: '--domain DOMAIN',
    summary: `${rule} client metadata documents from DOMAIN and its subdomains (replaces an earlier rule for it)`,
    options: { domain: { type: 'string' } },
    async run({ db, config }, args) {
      const domain = parseDomain(this.name, args);
      await setDomainRule(db, domain, rule);
      const { policy, json } = await describePolicy(db, config);
      // Say so when the rule has no effect under the current mode, rather than let the operator guess.
      const inert = (rule === 'allow' && policy.mode !== 'allow-list') || (rule === 'deny' && policy.mode === 'allow-all');
      const note = inert ? `\nnote: the policy is ${policy.mode}, so this rule has no effect until the mode changes (cimd policy --mode …)` : '';
      return { json: { domain, rule, ...json }, text: `${rule === 'allow' ? 'Allowed' : 'Denied'} ${domain}.${note}` };
    },
  };
}

const cimdRemove: CommandSpec = {
  name: 'cimd remove',
  usage: '--domain DOMAIN',
  summary: 'remove the CLI rule for DOMAIN (configured CIMD_DOMAINS stay)',
  options: { domain: { type: 'string' } },
  async run({ db }, args) {
    const domain = parseDomain(this.name, args);
    if (!(await removeDomainRule(db, domain))) throw new Error(`no CLI rule for ${domain}`);
    return { json: { domain, removed: true }, text: `Removed the rule for ${domain}.` };
  },
};

const cimdList: CommandSpec = {
  name: 'cimd list',
  usage: '',
  summary: 'show the client metadata document domain policy and every domain rule',
  options: {},
  async run({ db, config }) {
    const { json, text } = await describePolicy(db, config);
    return { json, text };
  },
};

// For an operator who knows a document changed, or was fixed within the minute its failure is
// remembered. The cached copy is made stale rather than deleted: it stays the re-consent baseline.
const cimdForget: CommandSpec = {
  name: 'cimd forget',
  usage: '--client-id URL',
  summary: 'make the next use of URL fetch its metadata document again (drops the cached copy and a remembered failure)',
  options: { 'client-id': { type: 'string' } },
  async run({ db }, args) {
    const clientId = args.required('client-id');
    if (!isMetadataDocumentClientId(clientId)) throw new UsageError(`${this.name}: --client-id must be a metadata document URL (https://…)`);
    const documentExpired = await expireCachedDocument(db, clientId);
    const failureForgotten = await forgetFailure(db, clientId);
    if (!documentExpired && !failureForgotten) throw new Error(`no cached metadata document or remembered failure for ${clientId}`);
    return {
      json: { client_id: clientId, document_expired: documentExpired, failure_forgotten: failureForgotten },
      text: `Forgot ${[documentExpired && 'the cached document', failureForgotten && 'the remembered failure'].filter(Boolean).join(' and ')} `
        + `of ${clientId}: its next use fetches it again.`,
    };
  },
};

export const cimdCommands: CommandSpec[] = [cimdPolicy, ruleCommand('allow'), ruleCommand('deny'), cimdRemove, cimdList, cimdForget];
