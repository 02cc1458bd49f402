// oidc-provider's `renderError`: the page a person sees when an authorization request cannot go back
// to the client (unknown client, unregistered redirect_uri…). Never redirects; states the OAuth error.
// A resumed sign-in whose interaction is gone (src/oidc/authorization-restart.ts) gets a button instead.
import type { KoaContextWithOIDC, ErrorOut } from 'oidc-provider';
import { requestState } from '../request/state.ts';
import { renderView } from '../views.ts';
import { restartForm } from './authorization-restart.ts';

export async function renderErrorPage(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
  ctx.type = 'html';
  // This page never sends the person on, so the leaving page (leaving-interstitial.ts) leaves it alone.
  requestState(ctx).errorPageRendered = true;
  // SessionNotFound (an invalid_request) at /auth/<uid>: the interaction was consumed, by a server whose
  // answer never arrived, or it expired. The same authorization request, sent again, can still finish.
  const restart = out.error === 'invalid_request' ? restartForm(ctx, authorizationMountPath(ctx)) : undefined;
  ctx.body = await renderView('error', {
    title: restart ? 'This sign-in was interrupted' : 'This sign-in request cannot continue',
    error: out.error,
    description: restart
      ? 'It did not finish, perhaps because the server restarted. Start it again; you may not need to sign in again.'
      : out.error_description ?? '',
    restart,
  });
}

/** The issuer's path ('' at the root), from where oidc-provider serves its authorization endpoint. */
function authorizationMountPath(ctx: KoaContextWithOIDC): string {
  try {
    return new URL(ctx.oidc.urlFor('authorization')).pathname.replace(/\/auth$/, '');
  } catch {
    return '';
  }
}
