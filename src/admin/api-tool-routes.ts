// The admin JSON API's tool governance (issue 14): a resource's catalog, approvals, inventory, drift policy,
// budgets and result-size cap, through src/tools/service.ts and src/tools/budgets.ts, in the CLI's wire forms.
import {
  approvedCatalogJson, approveToolsBody, budgetLimitBody, driftPolicyBody, driftPolicyJson, refreshOutcomeJson, resultCapBody, toolCatalogJson,
} from '../tools/json.ts';
import { approveTools, getToolCatalog, refreshToolCatalog, setDriftPolicy, toolServiceDeps } from '../tools/service.ts';
import { getToolBudgets, removeToolBudget, setMaxResultBytes, setToolBudget } from '../tools/budgets.ts';
import type { AdminDeps, AdminRoutes } from './route-contract.ts';

// A budget is addressed by what it counts: one tool by name, or every tool of one risk class.
const BUDGET_TARGETS = [['tool', ':tool'], ['risk', ':risk']] as const;

export function registerAdminApiToolRoutes({ api }: AdminRoutes, { db, config, secrets }: AdminDeps): void {
  const tools = toolServiceDeps(db, config, secrets.keyEncryptionSecret);
  const body = (ctx: { request: { body?: unknown } }) => ctx.request.body ?? {};

  api('get', '/resources/:uri/tools', async (ctx) => { ctx.body = toolCatalogJson(await getToolCatalog(db, ctx.params.uri!)); });
  api('post', '/resources/:uri/tools/approve', async (ctx, { actor }) => {
    const input = approveToolsBody.parse(body(ctx));
    ctx.body = approvedCatalogJson(await approveTools(db, ctx.params.uri!, { tools: input.tools, acknowledgeFlags: input.acknowledge_flags }, actor));
  });
  // Never a failure for a server that is down: the answer carries its `error`, as `resource tools refresh` prints it.
  api('post', '/resources/:uri/tools/refresh', async (ctx, { actor }) => {
    ctx.body = refreshOutcomeJson(await refreshToolCatalog(tools, ctx.params.uri!, actor));
  });
  api('put', '/resources/:uri/tools/drift', async (ctx, { actor }) => {
    const { drift } = driftPolicyBody.parse(body(ctx));
    ctx.body = driftPolicyJson(await setDriftPolicy(db, ctx.params.uri!, drift, actor));
  });

  api('get', '/resources/:uri/budgets', async (ctx) => { ctx.body = await getToolBudgets(db, ctx.params.uri!); });
  for (const [kind, param] of BUDGET_TARGETS) {
    const targetOf = (params: Record<string, string | undefined>) => ({ [kind]: params[kind]! });
    api('put', `/resources/:uri/budgets/${kind}/${param}`, async (ctx, { actor }) => {
      const { max, per_seconds: per } = budgetLimitBody.parse(body(ctx));
      ctx.body = await setToolBudget(db, ctx.params.uri!, { ...targetOf(ctx.params), max, per }, actor);
    });
    api('delete', `/resources/:uri/budgets/${kind}/${param}`, async (ctx, { actor }) => {
      ctx.body = await removeToolBudget(db, ctx.params.uri!, targetOf(ctx.params), actor);
    });
  }
  api('put', '/resources/:uri/budgets/max-result-bytes', async (ctx, { actor }) => {
    const { max_result_bytes: bytes } = resultCapBody.parse(body(ctx));
    ctx.body = await setMaxResultBytes(db, ctx.params.uri!, bytes === 0 ? null : bytes, actor);
  });
}
