// `cimd policy|allow|deny|remove|list`: which domains may serve Client ID Metadata Documents, and `cimd forget`:
// the next use of one client_id fetches its document again. Through src/cimd/operator-service.ts; stored in the
// database, so a running server applies a change to its next authorization, without a restart.
import {
  domainPolicyJson, forgetMetadataDocument, forgottenDocumentJson, readDomainPolicy, removeRuleForDomain, ruleOnDomain,
  setDomainPolicy, type EffectivePolicy,
} from '../cimd/operator-service.ts';
import { DOMAIN_POLICY_MODES, type DomainPolicyMode, type DomainRule } from '../cimd/domain-policy.ts';
import { isMetadataDocumentClientId } from '../cimd/resolver.ts';
import { UsageError } from './args.ts';
import { formatTable, type CommandSpec } from './command.ts';

function policyText(policy: EffectivePolicy): string {
  const meaning: Record<DomainPolicyMode, string> = {
    'allow-all': 'any domain may serve a client metadata document (deny rules do not apply)',
    'allow-list': 'only allowed domains (and their subdomains) may serve one',
    'deny-list': 'any domain except denied ones (and their subdomains) may serve one',
  };
  const table = formatTable(['DOMAIN', 'RULE', 'SOURCE'], policy.rules.map((r) => [r.domain, r.rule, r.source]), 'No domain rules.');
  return `Policy: ${policy.mode} (from ${policy.modeSource === 'cli' ? 'the CLI' : 'configuration'}): ${meaning[policy.mode]}\n${table}`;
}

const shown = (policy: EffectivePolicy) => ({ json: domainPolicyJson(policy), text: policyText(policy) });

const cimdPolicy: CommandSpec = {
  name: 'cimd policy',
  usage: `[--mode ${DOMAIN_POLICY_MODES.join('|')}]`,
  summary: 'show, or set with --mode, which domains may serve client metadata documents (overrides CIMD_DOMAIN_POLICY)',
  options: { mode: { type: 'string' } },
  async run({ db, config }, args) {
    const mode = args.string('mode');
    return shown(mode === undefined
      ? await readDomainPolicy(db, config.cimd.domainPolicy)
      : await setDomainPolicy(db, config.cimd.domainPolicy, { mode }));
  },
};

function ruleCommand(rule: DomainRule): CommandSpec {
  return {
    name: `cimd ${rule}`,
    usage: '--domain DOMAIN',
    summary: `${rule} client metadata documents from DOMAIN and its subdomains (replaces an earlier rule for it)`,
    options: { domain: { type: 'string' } },
    async run({ db, config }, args) {
      const outcome = await ruleOnDomain(db, config.cimd.domainPolicy, { domain: args.required('domain'), rule });
      const { domain, policy } = outcome;
      // Say so when the rule has no effect under the current mode, rather than let the operator guess.
      const note = outcome.inert ? `\nnote: the policy is ${policy.mode}, so this rule has no effect until the mode changes (cimd policy --mode …)` : '';
      return { json: { domain, rule, ...domainPolicyJson(policy) }, text: `${rule === 'allow' ? 'Allowed' : 'Denied'} ${domain}.${note}` };
    },
  };
}

const cimdRemove: CommandSpec = {
  name: 'cimd remove',
  usage: '--domain DOMAIN',
  summary: 'remove the CLI rule for DOMAIN (configured CIMD_DOMAINS stay)',
  options: { domain: { type: 'string' } },
  async run({ db }, args) {
    const domain = await removeRuleForDomain(db, { domain: args.required('domain') });
    return { json: { domain, removed: true }, text: `Removed the rule for ${domain}.` };
  },
};

const cimdList: CommandSpec = {
  name: 'cimd list',
  usage: '',
  summary: 'show the client metadata document domain policy and every domain rule',
  options: {},
  async run({ db, config }) {
    return shown(await readDomainPolicy(db, config.cimd.domainPolicy));
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
    // A usage error before the database is asked (the service checks it too, for any other caller).
    if (!isMetadataDocumentClientId(clientId)) throw new UsageError(`${this.name}: --client-id must be a metadata document URL (https://…)`);
    const forgotten = await forgetMetadataDocument(db, { clientId });
    const what = [forgotten.documentExpired && 'the cached document', forgotten.failureForgotten && 'the remembered failure'].filter(Boolean);
    return {
      json: forgottenDocumentJson(forgotten),
      text: `Forgot ${what.join(' and ')} of ${clientId}: its next use fetches it again.`,
    };
  },
};

export const cimdCommands: CommandSpec[] = [cimdPolicy, ruleCommand('allow'), ruleCommand('deny'), cimdRemove, cimdList, cimdForget];
