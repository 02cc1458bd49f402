// The sign-out confirmation and signed-out pages of RP-initiated logout, in our own look and under
// our Content-Security-Policy (oidc-provider's defaults use inline styles and web fonts).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { renderView } from '../views.ts';

export async function renderLogoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.type = 'html';
  // `form` is oidc-provider's generated markup (action URL and xsrf token), inserted unescaped.
  ctx.body = await renderView('logout', { host: ctx.host, form });
}

export async function renderLoggedOutPage(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.type = 'html';
  ctx.body = await renderView('logged-out', { clientName: ctx.oidc.client?.clientName ?? '' });
}
