// The console's identity providers page: the list with each provider's callback URL, a form to add one
// (preset or issuer, client credentials, domains), and disable/enable/remove; all through src/federation/service.ts.
import type Koa from 'koa';
import {
  addIdentityProvider, callbackUrl, listIdentityProviders, removeIdentityProvider, updateIdentityProvider, type FederationDeps,
} from '../federation/service.ts';
import { field, formAction, renderConsolePage } from './console-page.ts';
import type { AdminDeps, AdminRequest, AdminRoutes } from './route-contract.ts';

interface ProviderForm { name: string; displayName: string; preset: string; issuer: string; tenant: string; clientId: string; domains: string; ssoOnly: boolean; createAccounts: boolean }
const emptyForm = (): ProviderForm => ({ name: '', displayName: '', preset: 'google', issuer: '', tenant: '', clientId: '', domains: '', ssoOnly: false, createAccounts: true });

function readForm(ctx: Koa.Context): ProviderForm {
  return {
    name: field(ctx, 'name'), displayName: field(ctx, 'display_name'), preset: field(ctx, 'preset'), issuer: field(ctx, 'issuer'),
    tenant: field(ctx, 'tenant'), clientId: field(ctx, 'client_id'), domains: field(ctx, 'domains'),
    ssoOnly: field(ctx, 'sso_only') === 'on', createAccounts: field(ctx, 'create_accounts') === 'on',
  };
}
const blankToUndefined = (value: string) => (value === '' ? undefined : value);

export function registerConsoleIdentityProviderPages({ page }: AdminRoutes, { db, config, secrets, mountPath }: AdminDeps): void {
  const deps: FederationDeps = { db, keyEncryptionSecret: secrets.keyEncryptionSecret, issuer: config.issuer };
  const show = async (ctx: Koa.Context, admin: AdminRequest, error?: string, form = emptyForm()) => {
    await renderConsolePage(ctx, admin, 'identity-providers', 'identity-providers', {
      providers: await listIdentityProviders(db), callbackUrl: callbackUrl(config.issuer), form, error,
    });
  };

  page('get', '/identity-providers', (ctx, admin) => show(ctx, admin));
  page('post', '/identity-providers', (ctx, admin) => {
    const form = readForm(ctx);
    // The secret is read here and never put back into the form shown again.
    return formAction(ctx, mountPath, async () => {
      await addIdentityProvider(deps, {
        name: form.name, displayName: blankToUndefined(form.displayName), preset: blankToUndefined(form.preset === 'oidc' ? '' : form.preset),
        issuer: blankToUndefined(form.issuer), tenant: blankToUndefined(form.tenant), clientId: form.clientId,
        clientSecret: field(ctx, 'client_secret'), domains: form.domains.split(/[\s,]+/).filter(Boolean),
        ssoOnly: form.ssoOnly, createAccounts: form.createAccounts,
      }, admin.actor);
      return { path: '/identity-providers', status: 'idp-added' };
    }, (error) => show(ctx, admin, error, form));
  });
  for (const [action, disabled] of [['enable', false], ['disable', true]] as const) {
    page('post', `/identity-providers/${action}`, (ctx, admin) => formAction(ctx, mountPath, async () => {
      // Disabling: the operator's choice of what happens to its people (the CLI's --end-sessions / --end-grants).
      const people = disabled ? field(ctx, 'people') : '';
      await updateIdentityProvider(deps, {
        name: field(ctx, 'name'), disabled,
        ...(people === 'sessions' ? { endSessions: true } : people === 'grants' ? { endGrants: true } : {}),
      }, admin.actor);
      return { path: '/identity-providers', status: `idp-${action}d` };
    }, (error) => show(ctx, admin, error)));
  }
  page('post', '/identity-providers/remove', (ctx, admin) => formAction(ctx, mountPath, async () => {
    await removeIdentityProvider(deps, field(ctx, 'name'), admin.actor);
    return { path: '/identity-providers', status: 'idp-removed' };
  }, (error) => show(ctx, admin, error)));
}
