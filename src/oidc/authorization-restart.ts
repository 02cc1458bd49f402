// Lets a browser whose GET /auth/:uid was answered by a server that then crashed (interaction consumed,
// answer lost) start the same authorization again in one click, instead of a dead-end error page.
// oidc-provider deletes the interaction, and its copy of the request, when it resumes it; so the
// authorization request's query is kept in a signed cookie scoped, like oidc-provider's resume cookie,
// to /auth/<uid>: only the browser that began this authorization holds it, and only that URL sees it.
import type Koa from 'koa';

// Path-scoped like oidc-provider's resume cookie, so on https it takes the same `__Secure-` prefix.
const COOKIE_NAME = { plain: 'portcullis_auth_restart', secure: '__Secure-auth_restart' };
// As long as an interaction can live (oidc-provider's default ttl.Interaction is one hour).
const RESTART_COOKIE_MAX_AGE_MS = 60 * 60 * 1000;
// An authorization request's query, well above any real one, below a browser's 4 kB cookie limit.
const MAX_QUERY_LENGTH = 3_000;

export interface AuthorizationRestartOptions { mountPath: string; secure: boolean }

/**
 * Around oidc-provider: when GET /auth (or a resumed /auth/:uid) sends the browser to an interaction,
 * it remembers the original query for that interaction's /auth/<uid>.
 */
export function rememberAuthorizationRequests({ mountPath, secure }: AuthorizationRestartOptions): Koa.Middleware {
  const authPath = `${mountPath}/auth`;
  const interactionLocation = new RegExp(`^(?:https?://[^/]+)?${escapeRegExp(mountPath)}/interaction/([A-Za-z0-9_-]+)$`);
  return async (ctx, next) => {
    if (ctx.method !== 'GET') return next();
    await next();
    // Keyed on the route oidc-provider resolved (issue 11 §1), not on a spelling of the path.
    const route = (ctx as { oidc?: { route?: string } }).oidc?.route;
    if (route !== 'authorization' && route !== 'resume') return;
    const original = route === 'authorization' ? ctx.querystring : storedAuthorizationQuery(ctx);
    const uid = interactionLocation.exec(ctx.response.get('Location'))?.[1];
    if (uid === undefined || !original || original.length > MAX_QUERY_LENGTH) return;
    ctx.cookies.set(secure ? COOKIE_NAME.secure : COOKIE_NAME.plain, original, {
      path: `${authPath}/${uid}`, httpOnly: true, sameSite: 'lax', secure, signed: true, maxAge: RESTART_COOKIE_MAX_AGE_MS, overwrite: true,
    });
  };
}

/** The query of the authorization request that led to this /auth/<uid>, if this browser began it. */
export function storedAuthorizationQuery(ctx: Koa.Context): string | undefined {
  // Signed with the app's cookie keys: a value we did not set is ignored.
  return ctx.cookies.get(COOKIE_NAME.secure, { signed: true }) || ctx.cookies.get(COOKIE_NAME.plain, { signed: true }) || undefined;
}

export interface RestartForm { action: string; fields: Array<[name: string, value: string]> }

/**
 * The error page's "start again" button: a GET form that sends the same authorization request anew
 * (oidc-provider validates it again from scratch; the client's state and PKCE challenge are unchanged,
 * so the client accepts the code it gets). A form, not a script: our CSP runs none.
 */
export function restartForm(ctx: Koa.Context, mountPath: string): RestartForm | undefined {
  if (ctx.method !== 'GET' || (ctx as { oidc?: { route?: string } }).oidc?.route !== 'resume') return undefined;
  const query = storedAuthorizationQuery(ctx);
  return query ? { action: `${mountPath}/auth`, fields: [...new URLSearchParams(query)] } : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
