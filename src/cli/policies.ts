// `policy add|list|remove`: the organisation's least-privilege policies (issue 12): who may approve what on
// which resource. Parses options, calls src/policies/service.ts (validation, audit), renders.
import { CLI_OPERATOR } from '../audit/operator.ts';
import { addPolicy, listAllPolicies, policyJson, removePolicy } from '../policies/service.ts';
import type { Policy } from '../policies/store.ts';
import { formatTable, type CommandSpec } from './command.ts';

const line = (p: Policy) => `${p.id}  ${p.resourceUri}  ${p.claim}=${p.value}  up to ${p.maxRisk}`;

const policyAdd: CommandSpec = {
  name: 'policy add',
  usage: '--resource URI --claim CLAIM=VALUE --max-risk read|write|irreversible',
  summary: 'let people whose CLAIM has VALUE (groups=ops, domain=example.com, any upstream claim) approve scopes '
    + 'up to that risk on the resource; once a resource has a policy, people no policy matches may approve nothing there',
  options: { resource: { type: 'string' }, claim: { type: 'string' }, 'max-risk': { type: 'string' } },
  async run({ db }, args) {
    const policy = await addPolicy(db, {
      resource: args.required('resource'), claim: args.required('claim'), maxRisk: args.required('max-risk'),
    }, CLI_OPERATOR);
    return {
      json: { policy: policyJson(policy) },
      text: `Added policy ${policy.id}: ${policy.claim}=${policy.value} may approve up to ${policy.maxRisk} on ${policy.resourceUri}.\n`
        + `Running servers apply it from their next authorization or refresh. Remove it with: policy remove --id ${policy.id}`,
    };
  },
};

const policyList: CommandSpec = {
  name: 'policy list',
  usage: '',
  summary: 'list the policies, by resource (a resource with none is unrestricted)',
  options: {},
  async run({ db }) {
    const policies = await listAllPolicies(db);
    return {
      json: { policies: policies.map(policyJson) },
      text: formatTable(
        ['ID', 'RESOURCE', 'CLAIM', 'MAX RISK'],
        policies.map((p) => [p.id, p.resourceUri, `${p.claim}=${p.value}`, p.maxRisk]),
        'No policies: every resource is unrestricted. Add one with: policy add --resource URI --claim groups=ops --max-risk write',
      ),
    };
  },
};

const policyRemove: CommandSpec = {
  name: 'policy remove',
  usage: '--id ID',
  summary: 'remove a policy (its id is printed by policy add and policy list); grants narrow or widen from their next refresh',
  options: { id: { type: 'string' } },
  async run({ db }, args) {
    const policy = await removePolicy(db, args.required('id'), CLI_OPERATOR);
    return { json: { removed: policyJson(policy) }, text: `Removed policy ${line(policy)}.` };
  },
};

export const policyCommands: CommandSpec[] = [policyAdd, policyList, policyRemove];
