// Redirects on behalf of clients nobody has vetted (self-registered, metadata-document) go through a
// page that names where the person is being sent, instead of an automatic redirect (RFC 9700 §4.11.2).
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { identitySourceOf } from '../clients/identity.ts';
import { requestState } from '../request/state.ts';
import { renderView } from '../views.ts';

type OidcContext = KoaContextWithOIDC['oidc'];
type Client = NonNullable<OidcContext['client']>;

/** oidc-provider's route names whose redirects this page stands in front of. */
const AUTHORIZATION_ROUTES = new Set(['authorization', 'resume']);
const LOGOUT_ROUTE = 'end_session_confirm';

/** Whether an operator vouched for the client (src/clients/identity.ts); everyone else is unvetted. */
function isUnvetted(client: Client): boolean {
  const source = (client.metadata() as { portcullis_source?: string }).portcullis_source;
  return identitySourceOf(client.clientId, source) !== 'operator';
}

/**
 * oidc-provider's `authorization.error` event: remembered on the request, so a `form_post` error
 * answer (a self-submitting page, not a 303) is recognised as an error redirect too.
 */
export function rememberAuthorizationErrors(provider: Provider): void {
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, error: { error?: string; error_description?: string }) => {
    requestState(ctx).authorizationFailure = { error: error.error ?? 'server_error', description: error.error_description };
  });
}

interface Leaving { kind: 'error' | 'logout'; href?: string; form?: { action: string; fields: Record<string, string> } }

/**
 * Which answer must stop here. Authorization errors only while the person has not approved this
 * client in this browser (nothing they have seen yet names the destination: a malformed request,
 * prompt=none's login_required, or Deny on a client they never approved); a successful code answer
 * follows a consent page that showed the destination. Logout redirects always.
 */
function leavingFor(ctx: Koa.Context, oidc: OidcContext): Leaving | undefined {
  // Only these routes redirect a browser: every other answer (a token, a discovery document) passes
  // untouched, without building the client's metadata or parsing URLs on each request.
  const logout = oidc.route === LOGOUT_ROUTE;
  if (!logout && !AUTHORIZATION_ROUTES.has(oidc.route)) return undefined;
  // An authorization that did not fail redirects with its code: nothing to stop.
  const failure = requestState(ctx).authorizationFailure;
  if (!logout && !failure) return undefined;
  const client = oidc.client;
  if (!client || !isUnvetted(client)) return undefined;
  const location = ctx.status === 303 ? URL.parse(ctx.response.get('Location')) : null;
  const external = location && location.origin !== new URL(oidc.provider.issuer).origin ? location : null;
  if (logout) return external ? { kind: 'logout', href: external.href } : undefined;
  if (!failure || oidc.session?.grantIdFor(client.clientId)) return undefined;
  if (external) return { kind: 'error', href: external.href };
  // form_post (OAuth 2.0 Form Post Response Mode §2): the same fields, posted only when the person clicks.
  const redirectUri = oidc.params?.redirect_uri;
  if (oidc.params?.response_mode !== 'form_post' || typeof redirectUri !== 'string' || requestState(ctx).errorPageRendered) return undefined;
  const fields: Record<string, string> = { error: failure.error, iss: oidc.provider.issuer };
  if (failure.description) fields.error_description = failure.description;
  if (typeof oidc.params.state === 'string') fields.state = oidc.params.state;
  return { kind: 'error', form: { action: redirectUri, fields } };
}

/** Around oidc-provider's routes: swaps an automatic redirect for the "You are leaving" page. */
export function leavingInterstitial(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const leaving = oidc ? leavingFor(ctx, oidc) : undefined;
    if (!oidc || !leaving) return;
    const destination = new URL(leaving.href ?? leaving.form!.action);
    const failure = requestState(ctx).authorizationFailure;
    ctx.remove('Location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await renderView('leaving', {
      host: destination.host || destination.protocol,
      clientName: oidc.client!.clientName ?? oidc.client!.clientId,
      kind: leaving.kind,
      error: leaving.kind === 'error' ? failure?.error : undefined,
      description: leaving.kind === 'error' ? failure?.description : undefined,
      href: leaving.href,
      form: leaving.form,
    });
  };
}
