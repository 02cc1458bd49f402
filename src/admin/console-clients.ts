// The console's clients page: every client with its identity source, status, use and replays, the forms
// that disable, enable or delete one, and the form that adds a machine client; all through the clients service.
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import { describeClientIdentity } from '../clients/identity.ts';
import { listClientOverview, registerClient, removeClient, setClientEnabled, type RegisteredClient } from '../clients/service.ts';
import { listResourceOverview } from '../resources/service.ts';
import { field, formAction, registerToggleActions, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

/** The machine-client form as typed, shown again when the service refuses it (never a secret: none is typed). */
interface MachineForm { name: string; resource: string; scopes: string; allowIrreversible: boolean; jwks: string; jwksUri: string }
const emptyMachineForm = (): MachineForm => ({ name: '', resource: '', scopes: '', allowIrreversible: false, jwks: '', jwksUri: '' });

function readMachineForm(ctx: Koa.Context): MachineForm {
  return {
    name: field(ctx, 'name'), resource: field(ctx, 'resource'), scopes: field(ctx, 'scopes'),
    allowIrreversible: field(ctx, 'allow_irreversible') === 'on', jwks: field(ctx, 'jwks'), jwksUri: field(ctx, 'jwks_uri'),
  };
}

/** The pasted JWKS as JSON; what its keys are is the service's to judge. */
function parsedJwks(text: string): unknown {
  if (text === '') return undefined;
  try { return JSON.parse(text); } catch { throw new AppError('invalid_request', 'JWKS: not valid JSON; paste a JSON Web Key Set ({"keys": [...]}) of public keys'); }
}

export function registerConsoleClientPages({ page }: AdminRoutes, { db, mountPath }: AdminDeps): void {
  const showClients = async (
    ctx: Koa.Context, admin: AdminRequest, error?: string, machineForm = emptyMachineForm(), created?: RegisteredClient,
  ) => {
    const clients = (await listClientOverview(db)).map((client) => ({ ...client, identity: describeClientIdentity(client.clientId, client.source) }));
    const resources = (await listResourceOverview(db)).map((r) => ({ uri: r.uri, name: r.name, scopes: r.scopes }));
    await renderConsolePage(ctx, admin, 'clients', 'clients', { clients, resources, machineForm, created, error });
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

  // Answered with the page itself, not a redirect: a new secret is shown this once and never travels in a URL.
  page('post', '/clients/machine', (ctx, admin) => {
    const form = readMachineForm(ctx);
    return formAction(ctx, mountPath, async () => {
      const created = await registerClient(db, {
        kind: 'machine', name: form.name, resource: form.resource, scopes: form.scopes.split(/\s+/).filter(Boolean),
        allowIrreversible: form.allowIrreversible, jwks: parsedJwks(form.jwks), jwksUri: form.jwksUri === '' ? undefined : form.jwksUri,
      }, admin.actor);
      ctx.set('Cache-Control', 'no-store');
      await showClients(ctx, admin, undefined, emptyMachineForm(), created);
      ctx.status = 201;
      return undefined;
    }, (error) => showClients(ctx, admin, error, form));
  });
}
