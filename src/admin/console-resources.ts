// The console's resources pages: the list with each server's last metadata check inline, and one form
// to register or edit a resource (scopes with risk classes, token lifetime and format, DPoP, which clients may use it).
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import { listClientOverview } from '../clients/service.ts';
import {
  checkResource, listResourceOverview, registerResource, requireResource, resourceServiceDeps, setResourceEnabled, updateResource,
  type Resource, type ResourceSettingsInput,
} from '../resources/service.ts';
import { refreshToolCatalog, toolServiceDeps } from '../tools/service.ts';
import { field, formAction, registerToggleActions, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

const MAX_SCOPE_ROWS = 60;
const BLANK_ROWS = 3;

/** What the form shows: the resource's values, or what was typed when saving failed. */
interface ResourceForm {
  uri: string; name: string; ttl: string; tokenFormat: string; dpop: string; clientAccess: 'any' | 'listed'; allowedClients: string[];
  scopes: { scope: string; risk: string; description: string }[]; check: boolean;
}

const formOf = (resource: Resource): ResourceForm => ({
  uri: resource.uri, name: resource.name, ttl: String(resource.accessTokenTtlSeconds), tokenFormat: resource.accessTokenFormat, dpop: resource.dpop,
  clientAccess: resource.allowedClientIds ? 'listed' : 'any', allowedClients: resource.allowedClientIds ?? [],
  scopes: resource.scopes.map((s) => ({ ...s })), check: true,
});
const emptyForm = (): ResourceForm => ({
  uri: '', name: '', ttl: '', tokenFormat: 'jwt', dpop: 'allowed', clientAccess: 'any', allowedClients: [], scopes: [], check: true,
});

/** Reads the posted form. Blank scope rows are ignored; everything else is the service's zod schema's to judge. */
function readForm(ctx: Koa.Context): ResourceForm {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const list = (value: unknown) => [value ?? []].flat().filter((item): item is string => typeof item === 'string');
  const scopes: ResourceForm['scopes'] = [];
  for (let row = 0; row < MAX_SCOPE_ROWS; row += 1) {
    const scope = field(ctx, `scope_${row}`);
    if (scope === '') continue;
    scopes.push({ scope, risk: field(ctx, `risk_${row}`), description: field(ctx, `description_${row}`) });
  }
  const typed = field(ctx, 'other_clients').split(/\s+/).filter(Boolean);
  return {
    uri: field(ctx, 'uri'), name: field(ctx, 'name'), ttl: field(ctx, 'ttl'), tokenFormat: field(ctx, 'token_format') || 'jwt', dpop: field(ctx, 'dpop') || 'allowed',
    clientAccess: field(ctx, 'client_access') === 'listed' ? 'listed' : 'any',
    allowedClients: [...new Set([...list(body.allowed_client).map((id) => id.trim()).filter(Boolean), ...typed])],
    scopes, check: field(ctx, 'check') === 'on',
  };
}

function settingsOf(form: ResourceForm): ResourceSettingsInput {
  if (form.ttl !== '' && !/^\d{1,6}$/.test(form.ttl)) throw new AppError('invalid_request', 'Token lifetime: a whole number of seconds (120–3600).');
  return {
    name: form.name,
    scopes: form.scopes as ResourceSettingsInput['scopes'],
    accessTokenTtlSeconds: form.ttl === '' ? undefined : Number(form.ttl),
    accessTokenFormat: form.tokenFormat as ResourceSettingsInput['accessTokenFormat'],
    dpop: form.dpop as ResourceSettingsInput['dpop'],
    allowedClientIds: form.clientAccess === 'listed' ? form.allowedClients : null,
  };
}

export function registerConsoleResourcePages({ page }: AdminRoutes, { db, config, secrets, mountPath }: AdminDeps): void {
  const resources = resourceServiceDeps(db, config);

  const showList = async (ctx: Koa.Context, admin: AdminRequest, error?: string) => {
    await renderConsolePage(ctx, admin, 'resources', 'resources', { resources: await listResourceOverview(db), issuer: config.issuer, error });
  };
  const showForm = async (ctx: Koa.Context, admin: AdminRequest, mode: 'new' | 'edit', form: ResourceForm, error?: string) => {
    const clients = (await listClientOverview(db)).map((client) => ({ clientId: client.clientId, name: client.name ?? client.clientId }));
    const rows = [...form.scopes, ...Array.from({ length: BLANK_ROWS }, () => ({ scope: '', risk: 'read', description: '' }))];
    await renderConsolePage(ctx, admin, 'resource-form', 'resources', {
      mode, form, rows, clients, defaultTtl: config.accessTokenTtlSeconds, error,
    });
  };

  page('get', '/resources', (ctx, admin) => showList(ctx, admin));
  page('get', '/resources/new', (ctx, admin) => showForm(ctx, admin, 'new', emptyForm()));
  page('get', '/resources/edit', async (ctx, admin) => {
    const uri = typeof ctx.query.uri === 'string' ? ctx.query.uri : '';
    await showForm(ctx, admin, 'edit', formOf(await requireResource(db, uri)));
  });

  page('post', '/resources', (ctx, admin) => {
    const form = readForm(ctx);
    return formAction(ctx, mountPath, async () => {
      const { resource } = await registerResource(resources, { uri: form.uri, ...settingsOf(form) }, admin.actor, { check: form.check });
      // Its tools listed at once, as `resource add` does (best effort: a failure is shown on its Tools page).
      if (form.check) await refreshToolCatalog(toolServiceDeps(db, config, secrets.keyEncryptionSecret), resource.uri, admin.actor);
      return { path: `/resources?uri=${encodeURIComponent(resource.uri)}`, status: 'resource-registered' };
    }, (error) => showForm(ctx, admin, 'new', form, error));
  });
  page('post', '/resources/update', (ctx, admin) => {
    const form = readForm(ctx);
    return formAction(ctx, mountPath, async () => {
      const { resource } = await updateResource(resources, form.uri, settingsOf(form), admin.actor, { check: form.check });
      return { path: `/resources?uri=${encodeURIComponent(resource.uri)}`, status: 'resource-saved' };
    }, (error) => showForm(ctx, admin, 'edit', form, error));
  });
  registerToggleActions(page, mountPath, {
    path: '/resources', idField: 'uri', kind: 'resource', showAgain: showList,
    toggle: (uri, enabled, admin) => setResourceEnabled(db, uri, enabled, admin.actor),
  });
  page('post', '/resources/check', (ctx, admin) => formAction(ctx, mountPath, async () => {
    const resource = await requireResource(db, field(ctx, 'uri'));
    await checkResource(resources, resource.uri);
    return { path: `/resources?uri=${encodeURIComponent(resource.uri)}`, status: 'resource-checked' };
  }, (error) => showList(ctx, admin, error)));
}
