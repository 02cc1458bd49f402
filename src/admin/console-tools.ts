// The console's tools page per resource (issue 14 §1-4): the catalog with scope, risk, status, warnings, the
// poisoned-text findings and the diff of each drifted tool, with Approve (all, or one tool; flagged tools need
// the acknowledgement box) and List now; all through src/tools/service.ts. Below, the recent tool calls (§6).
import type Koa from 'koa';
import { CATALOG_FLAG_WORDS } from '../tools/catalog.ts';
import { FINDING_WORDS } from '../tools/poisoned-description.ts';
import { approvalViewOf, approveTools, getToolCatalog, refreshToolCatalog, toolServiceDeps } from '../tools/service.ts';
import { recentCallsAtResource, toolCallJson } from '../tools/calls.ts';
import { field, formAction, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

const toolsPath = (uri: string) => `/resources/tools?uri=${encodeURIComponent(uri)}`;

export function registerConsoleToolPages({ page }: AdminRoutes, { db, config, secrets, mountPath }: AdminDeps): void {
  const deps = toolServiceDeps(db, config, secrets.keyEncryptionSecret);
  const show = async (ctx: Koa.Context, admin: AdminRequest, uri: string, error?: string) => {
    const catalog = await getToolCatalog(db, uri);
    // The recent calls at this resource (issue 14 §6), of one client when the query names it.
    const client = typeof ctx.query.client === 'string' && ctx.query.client !== '' ? ctx.query.client.slice(0, 255) : undefined;
    const calls = (await recentCallsAtResource(db, catalog.resource.uri, client)).map(toolCallJson);
    await renderConsolePage(ctx, admin, 'resource-tools', 'resources', { catalog, flagWords: CATALOG_FLAG_WORDS, findingWords: FINDING_WORDS, approvalViewOf, error, calls, callsClient: client });
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
}
