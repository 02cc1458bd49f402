// The console's tools page per resource (issue 14 §1-4): the catalog with scope, risk, status, warnings, the
// poisoned-text findings and the diff of each drifted tool, with Approve (all, or one tool; flagged tools need
// the acknowledgement box) and List now; all through src/tools/service.ts. Below, the budgets and result-size cap
// (§7, src/tools/budgets.ts) with their forms, and the recent tool calls (§6).
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import { CATALOG_FLAG_WORDS } from '../tools/catalog.ts';
import { FINDING_WORDS } from '../tools/poisoned-description.ts';
import { approvalViewOf, approveTools, getToolCatalog, refreshToolCatalog, toolServiceDeps } from '../tools/service.ts';
import { getToolBudgets, removeToolBudget, setMaxResultBytes, setToolBudget } from '../tools/budgets.ts';
import { recentCallsAtResource, toolCallJson } from '../tools/calls.ts';
import { field, formAction, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

const toolsPath = (uri: string) => `/resources/tools?uri=${encodeURIComponent(uri)}`;

/** What the budget form shows: empty, or what was typed when saving failed. `target` is `tool:NAME` or `risk:CLASS`. */
interface BudgetForm { target: string; max: string; per: string; maxResultBytes: string }
const emptyBudgetForm = (): BudgetForm => ({ target: '', max: '', per: '', maxResultBytes: '' });

/** A form's whole number as typed; anything else is refused in words (the service judges the range). */
function wholeNumber(label: string, text: string): number {
  if (!/^\d{1,10}$/.test(text)) throw new AppError('invalid_request', `${label}: a whole number, got ${JSON.stringify(text.slice(0, 40))}.`);
  return Number(text);
}

/** The select's `tool:NAME` or `risk:CLASS` as the service's target (an unknown kind names neither: the service refuses it). */
function budgetTarget(value: string): { tool?: string; risk?: string } {
  const at = value.indexOf(':');
  const [kind, name] = at < 0 ? ['', ''] : [value.slice(0, at), value.slice(at + 1)];
  return kind === 'tool' ? { tool: name } : kind === 'risk' ? { risk: name } : {};
}

export function registerConsoleToolPages({ page }: AdminRoutes, { db, config, secrets, mountPath }: AdminDeps): void {
  const deps = toolServiceDeps(db, config, secrets.keyEncryptionSecret);
  const show = async (ctx: Koa.Context, admin: AdminRequest, uri: string, error?: string, budgetForm = emptyBudgetForm()) => {
    const catalog = await getToolCatalog(db, uri);
    // The recent calls at this resource (issue 14 §6), of one client when the query names it.
    const client = typeof ctx.query.client === 'string' && ctx.query.client !== '' ? ctx.query.client.slice(0, 255) : undefined;
    const [calls, budgets] = await Promise.all([recentCallsAtResource(db, catalog.resource.uri, client), getToolBudgets(db, catalog.resource.uri)]);
    await renderConsolePage(ctx, admin, 'resource-tools', 'resources', {
      catalog, flagWords: CATALOG_FLAG_WORDS, findingWords: FINDING_WORDS, approvalViewOf, error, calls: calls.map(toolCallJson), callsClient: client, budgets, budgetForm,
    });
  };

  page('get', '/resources/tools', (ctx, admin) => show(ctx, admin, String(ctx.query.uri ?? '')));
  page('post', '/resources/tools/approve', (ctx, admin) => {
    const uri = field(ctx, 'uri');
    const tool = field(ctx, 'tool');
    const acknowledgeFlags = field(ctx, 'acknowledge_flags') === 'on';
    // The page's record of what it showed: the approval covers those definitions or nothing.
    const seen = field(ctx, 'seen');
    return formAction(ctx, mountPath, async () => {
      const approved = await approveTools(db, uri, { tools: tool ? [tool] : undefined, acknowledgeFlags, seen }, admin.actor);
      // Issue 14 §3: say so when the approval flagged grants for re-consent.
      return { path: toolsPath(uri), status: approved.raised.some((r) => r.grants > 0) ? 'tools-approved-reconsent' : 'tools-approved' };
    }, (error) => show(ctx, admin, uri, error));
  });
  page('post', '/resources/tools/refresh', (ctx, admin) => {
    const uri = field(ctx, 'uri');
    return formAction(ctx, mountPath, async () => {
      const outcome = await refreshToolCatalog(deps, uri, admin.actor);
      return { path: toolsPath(outcome.catalog.resource.uri), status: outcome.error ? 'tools-refresh-failed' : 'tools-refreshed' };
    }, (error) => show(ctx, admin, uri, error));
  });

  // §7: budgets and the cap; each change audited by the service (tools.budget_changed) with the admin as actor.
  page('post', '/resources/tools/budgets', (ctx, admin) => {
    const uri = field(ctx, 'uri');
    const form: BudgetForm = { ...emptyBudgetForm(), target: field(ctx, 'target'), max: field(ctx, 'max'), per: field(ctx, 'per') };
    return formAction(ctx, mountPath, async () => {
      const limit = { max: wholeNumber('Calls', form.max), per: wholeNumber('Per seconds', form.per) };
      await setToolBudget(db, uri, { ...budgetTarget(form.target), ...limit }, admin.actor);
      return { path: toolsPath(uri), status: 'tool-budget-set' };
    }, (error) => show(ctx, admin, uri, error, form));
  });
  page('post', '/resources/tools/budgets/remove', (ctx, admin) => {
    const uri = field(ctx, 'uri');
    return formAction(ctx, mountPath, async () => {
      await removeToolBudget(db, uri, budgetTarget(field(ctx, 'target')), admin.actor);
      return { path: toolsPath(uri), status: 'tool-budget-removed' };
    }, (error) => show(ctx, admin, uri, error));
  });
  page('post', '/resources/tools/result-cap', (ctx, admin) => {
    const uri = field(ctx, 'uri');
    const form: BudgetForm = { ...emptyBudgetForm(), maxResultBytes: field(ctx, 'max_result_bytes') };
    return formAction(ctx, mountPath, async () => {
      await setMaxResultBytes(db, uri, wholeNumber('Largest result in bytes', form.maxResultBytes), admin.actor);
      return { path: toolsPath(uri), status: 'tool-result-cap-set' };
    }, (error) => show(ctx, admin, uri, error, form));
  });
  page('post', '/resources/tools/result-cap/remove', (ctx, admin) => {
    const uri = field(ctx, 'uri');
    return formAction(ctx, mountPath, async () => {
      await setMaxResultBytes(db, uri, null, admin.actor);
      return { path: toolsPath(uri), status: 'tool-result-cap-removed' };
    }, (error) => show(ctx, admin, uri, error));
  });
}
