// The console's policies page (issue 12): the organisation's least-privilege rules by resource, a form to
// add one (resource, CLAIM=VALUE, max risk) and remove; all through src/policies/service.ts.
import type Koa from 'koa';
import { addPolicy, listAllPolicies, removePolicy } from '../policies/service.ts';
import { listResources } from '../resources/store.ts';
import { field, formAction, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

interface PolicyForm { resource: string; claim: string; maxRisk: string }
const emptyForm = (): PolicyForm => ({ resource: '', claim: '', maxRisk: 'read' });

export function registerConsolePolicyPages({ page }: AdminRoutes, { db, mountPath }: AdminDeps): void {
  const show = async (ctx: Koa.Context, admin: AdminRequest, error?: string, form = emptyForm()) => {
    await renderConsolePage(ctx, admin, 'policies', 'policies', {
      policies: await listAllPolicies(db), resources: await listResources(db), form, error,
    });
  };

  page('get', '/policies', (ctx, admin) => show(ctx, admin));
  page('post', '/policies', (ctx, admin) => {
    const form: PolicyForm = { resource: field(ctx, 'resource'), claim: field(ctx, 'claim'), maxRisk: field(ctx, 'max_risk') };
    return formAction(ctx, mountPath, async () => {
      await addPolicy(db, form, admin.actor);
      return { path: '/policies', status: 'policy-added' };
    }, (error) => show(ctx, admin, error, form));
  });
  page('post', '/policies/remove', (ctx, admin) => formAction(ctx, mountPath, async () => {
    await removePolicy(db, field(ctx, 'id'), admin.actor);
    return { path: '/policies', status: 'policy-removed' };
  }, (error) => show(ctx, admin, error)));
}
