// The console's clients page: every client with its identity source, status, use and replays, and the
// forms that disable, enable or delete one through the clients service.
import type Koa from 'koa';
import { describeClientIdentity } from '../clients/identity.ts';
import { listClientOverview, removeClient, setClientEnabled } from '../clients/service.ts';
import { field, formAction, registerToggleActions, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

export function registerConsoleClientPages({ page }: AdminRoutes, { db, mountPath }: AdminDeps): void {
  const showClients = async (ctx: Koa.Context, admin: AdminRequest, error?: string) => {
    const clients = (await listClientOverview(db)).map((client) => ({ ...client, identity: describeClientIdentity(client.clientId, client.source) }));
    await renderConsolePage(ctx, admin, 'clients', 'clients', { clients, error });
  };
  page('get', '/clients', (ctx, admin) => showClients(ctx, admin));
  registerToggleActions(page, mountPath, {
    path: '/clients', idField: 'client_id', kind: 'client', showAgain: showClients,
    toggle: (clientId, enabled, admin) => setClientEnabled(db, clientId, enabled, admin.actor),
  });
  page('post', '/clients/delete', (ctx, admin) => formAction(ctx, mountPath, async () => {
    await removeClient(db, field(ctx, 'client_id'), admin.actor);
    return { path: '/clients', status: 'client-deleted' };
  }, (error) => showClients(ctx, admin, error)));
}
