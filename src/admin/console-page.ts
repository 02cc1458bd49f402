// What every console page shares: rendering inside the console layout (who is signed in, which tab),
// status messages chosen by key, POST → 303 → GET, and a failed form shown again with its error.
import type Koa from 'koa';
import { describeError } from '../errors.ts';
import { formatTime, renderView } from '../views.ts';
import type { AdminRequest, AdminRoutes } from './route-contract.ts';

// Chosen by key: nothing from the query string is ever shown on a page.
const STATUS_MESSAGES: Record<string, string> = {
  'resource-registered': 'Resource registered. Its metadata check is shown beside it.',
  'resource-saved': 'Changes saved. They reach every server process within seconds.',
  'resource-disabled': 'Resource disabled: no new token names it (invalid_target). Access tokens already issued live until they expire.',
  'resource-enabled': 'Resource enabled.',
  'resource-checked': 'Metadata checked just now.',
  'client-disabled': 'Client disabled: its requests are refused and its grants ended.',
  'client-enabled': 'Client enabled. People approve it again on its next authorization.',
  'client-deleted': 'Client deleted with its grants and tokens.',
  'user-created': 'Account created.',
  'user-disabled': 'Account disabled: signed out everywhere, and every grant it gave has ended.',
  'user-enabled': 'Account enabled.',
  'password-reset': 'Password changed. The person was signed out everywhere.',
  'keys-rotated': 'New signing keys published: every server signs with them from their activation time below; older keys keep verifying.',
  'keys-rotated-now': 'New signing keys added, signing at once: resource servers that fetched the key set in the last 30 seconds may refuse new tokens for up to 30 seconds.',
  'idp-added': 'Identity provider added. Register the redirect URI shown above at the provider.',
  'idp-disabled': 'Identity provider disabled.',
  'idp-enabled': 'Identity provider enabled.',
  'idp-removed': 'Identity provider removed with its domains.',
  'policy-added': 'Policy added. Authorizations use it now; standing grants are narrowed at their next refresh.',
  'policy-removed': 'Policy removed. A resource left with no policy is unrestricted again.',
  'tools-approved': 'Approved: the kit lets these tools be called as they are defined now.',
  'tools-approved-reconsent': 'Approved: the kit lets these tools be called as they are defined now. They put riskier tools behind a scope'
    + ' people have granted: each of those grants asks its person again at the next authorization (audit: grant.reconsent_required).',
  'tools-refreshed': 'Tools listed just now.',
  'tools-refresh-failed': 'The server\'s tools could not be listed: see the error below. The catalog is as it was.',
  'tool-budget-set': 'Budget saved: the kit counts calls against it once it fetches the catalog again (every 10 seconds by default).',
  'tool-budget-removed': 'Budget removed.',
  'tool-result-cap-set': 'Result-size cap saved: the kit refuses larger tool results once it fetches the catalog again (every 10 seconds by default).',
  'tool-result-cap-removed': 'Result-size cap removed.',
  'key-retired': 'Key retired: it is no longer published, and its private half is erased.',
};

export type ConsoleTab = 'overview' | 'resources' | 'clients' | 'users' | 'identity-providers' | 'policies' | 'keys' | 'audit';

export async function renderConsolePage(
  ctx: Koa.Context, admin: AdminRequest, view: string, tab: ConsoleTab, data: Record<string, unknown>,
): Promise<void> {
  ctx.type = 'html';
  ctx.body = await renderView(`admin/${view}`, {
    adminEmail: admin.email, tab, status: STATUS_MESSAGES[String(ctx.query.status ?? '')], error: undefined, formatTime, ...data,
  });
}

export function seeOther(ctx: Koa.Context, mountPath: string, path: string, status: string): void {
  ctx.redirect(`${mountPath}/admin${path}${path.includes('?') ? '&' : '?'}status=${status}`);
  ctx.status = 303;
}

/**
 * Runs a form's action, then 303 to `{ path, status }` it returns (undefined: the action answered itself,
 * as one that shows a new secret once must). Input the action refuses (a 4xx) shows the page again with
 * the reason and that status, so the operator sees what to fix.
 */
export async function formAction(
  ctx: Koa.Context, mountPath: string, work: () => Promise<{ path: string; status: string } | undefined>, showAgain: (error: string) => Promise<void>,
): Promise<void> {
  let next: { path: string; status: string } | undefined;
  try {
    next = await work();
  } catch (error) {
    const described = describeError(error);
    if (described.status >= 500) throw error;
    await showAgain(described.description);
    ctx.status = described.status;
    return;
  }
  if (next) seeOther(ctx, mountPath, next.path, next.status);
}

/** A form field as one trimmed string ('' when absent or sent twice). */
export function field(ctx: Koa.Context, name: string): string {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * The enable and disable form actions of one kind of record (`/clients/enable`, `/clients/disable`, …): each
 * posts the record's id in `idField`, runs `toggle`, and lands on `path` with `<kind>-enabled` or `<kind>-disabled`.
 */
export function registerToggleActions(
  page: AdminRoutes['page'], mountPath: string,
  { path, idField, kind, toggle, showAgain }: {
    path: string; idField: string; kind: string;
    toggle: (id: string, enabled: boolean, admin: AdminRequest) => Promise<unknown>;
    showAgain: (ctx: Koa.Context, admin: AdminRequest, error: string) => Promise<void>;
  },
): void {
  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    page('post', `${path}/${action}`, (ctx, admin) => formAction(ctx, mountPath, async () => {
      await toggle(field(ctx, idField), enabled, admin);
      return { path, status: `${kind}-${action}d` };
    }, (error) => showAgain(ctx, admin, error)));
  }
}
