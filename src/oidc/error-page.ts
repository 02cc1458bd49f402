// oidc-provider's `renderError`: the page a person sees when an authorization request cannot go back
// to the client (unknown client, unregistered redirect_uri…). Never redirects; states the OAuth error.
import type { KoaContextWithOIDC, ErrorOut } from 'oidc-provider';
import { renderView } from '../views.ts';

export async function renderErrorPage(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  ctx.type = 'html';
  // This page never sends the person on, so the leaving page (leaving-interstitial.ts) leaves it alone.
  ctx.state.errorPageRendered = true;
  ctx.body = await renderView('error', {
    title: 'This sign-in request cannot continue',
    error: out.error,
    description: out.error_description ?? '',
  });
}
