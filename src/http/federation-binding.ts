// The browser binding of a federated sign-in (login CSRF): the attempt's state in a signed, HttpOnly cookie
// scoped to ISSUER/federation/callback, set when the browser leaves for the provider and read (then cleared)
// when it comes back. Shared by the interaction's login page and /account, which both start sign-ins.
import type Koa from 'koa';
import { ATTEMPT_TTL_SECONDS, startFederatedSignIn, type FlowDeps } from '../federation/flow.ts';
import type { IdentityProvider } from '../federation/store.ts';
import { requestFacts } from './request-facts.ts';

export const FEDERATION_CALLBACK_PATH = '/federation/callback';
const BINDING_COOKIE = 'portcullis_federation';

export interface BindingDeps { flow: FlowDeps; mountPath: string; secure: boolean }

const cookieOptions = (deps: BindingDeps) => ({
  // Lax: the provider's redirect back is a top-level GET navigation from its site, which Lax cookies ride on.
  httpOnly: true, sameSite: 'lax', secure: deps.secure, signed: true, overwrite: true, path: `${deps.mountPath}${FEDERATION_CALLBACK_PATH}`,
} as const);

/** Sends the browser to the provider (303), bound to it by the cookie; `interactionUid` null for /account. */
export async function redirectToProvider(
  ctx: Koa.Context, deps: BindingDeps, idp: IdentityProvider, interactionUid: string | null, loginHint?: string,
): Promise<void> {
  const started = await startFederatedSignIn(deps.flow, idp, interactionUid, loginHint, requestFacts(ctx));
  ctx.cookies.set(BINDING_COOKIE, started.state, { ...cookieOptions(deps), maxAge: ATTEMPT_TTL_SECONDS * 1000 });
  ctx.status = 303;
  ctx.redirect(started.authorizationUrl);
}

/** The state this browser was given when it left, if any; the cookie is cleared whatever comes next. */
export function takeBoundState(ctx: Koa.Context, deps: BindingDeps): string | undefined {
  const state = ctx.cookies.get(BINDING_COOKIE, { signed: true });
  ctx.cookies.set(BINDING_COOKIE, null, cookieOptions(deps));
  return state;
}
