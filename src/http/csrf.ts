// Cross-site request forgery defence for our own forms (sign-in, consent, /account): a per-browser
// secret in an HttpOnly cookie, an HMAC of it in each form, and a refusal of cross-site POSTs.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { AppError } from '../errors.ts';
import { crossSiteReason } from './origin-check.ts';

export interface CsrfOptions {
  /** The issuer's path prefix ('' when none): protected pages live under it. */
  mountPath: string;
  /** The cookie keys: the first signs new tokens, every one verifies (key rotation). */
  keys: readonly string[];
  /** The issuer's origin, the only Origin our forms post from. */
  issuerOrigin: string;
  /** https issuer: the cookie is `__Host-` prefixed and Secure (see cookieName). */
  secure: boolean;
  /** Whether a request is for one of our pages: by default its path (isProtectedPath); app.ts asks the route too. */
  protects?: (ctx: Koa.Context) => boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * `__Host-` makes browsers accept the cookie only with Secure, Path=/ and no Domain, so a sibling
 * subdomain cannot plant one (RFC 6265bis §4.1.3.2). Plain http (local development) cannot use it.
 */
export const csrfCookieName = (secure: boolean) => (secure ? '__Host-portcullis_csrf' : 'portcullis_csrf');

/**
 * Signed double-submit (OWASP CSRF Cheat Sheet): the form carries HMAC(key, secret), never the secret
 * itself, so a cookie planted by another host is useless without our key, and a token read from one
 * browser's page is useless in another browser.
 */
function tokenFor(key: string, secret: string): Buffer {
  return createHmac('sha256', key).update(`portcullis csrf v1\0${secret}`).digest();
}

function tokenMatches(keys: readonly string[], secret: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const given = Buffer.from(presented, 'base64url');
  if (given.length !== 32 || given.toString('base64url') !== presented) return false;
  let matched = false;
  for (const key of keys) matched = timingSafeEqual(tokenFor(key, secret), given) || matched;
  return matched;
}

// The operator console is protected; its JSON API is not: it takes only bearer tokens, never a cookie.
const isAdminConsolePath = (path: string, mountPath: string) =>
  (path === `${mountPath}/admin` || path.startsWith(`${mountPath}/admin/`))
  && path !== `${mountPath}/admin/api` && !path.startsWith(`${mountPath}/admin/api/`);

export const isProtectedPath = (path: string, mountPath: string) =>
  path.startsWith(`${mountPath}/interaction/`) || path === `${mountPath}/federation/callback` || path === `${mountPath}/account` || path.startsWith(`${mountPath}/account/`)
  || isAdminConsolePath(path, mountPath);

/** Puts `ctx.state.csrfToken` on our pages and refuses a state-changing request without a valid one. */
export function csrfProtection(options: CsrfOptions): Koa.Middleware {
  const name = csrfCookieName(options.secure);
  const cookieOptions = { httpOnly: true, sameSite: 'lax', secure: options.secure, path: '/', signed: false, overwrite: true } as const;
  return async (ctx, next) => {
    if (!(options.protects?.(ctx) ?? isProtectedPath(ctx.path, options.mountPath))) return next();
    const existing = ctx.cookies.get(name);
    const secret = existing && SECRET_PATTERN.test(existing) ? existing : undefined;
    if (!SAFE_METHODS.has(ctx.method)) {
      const crossSite = crossSiteReason(ctx, options.issuerOrigin);
      if (crossSite) {
        throw new AppError('cross_site_request', 'This form was sent from another website, so it was not accepted. Go back to the application and start again.');
      }
      const body = ctx.request.body as Record<string, unknown> | undefined;
      if (!secret || !tokenMatches(options.keys, secret, body?.csrf)) {
        throw new AppError('invalid_csrf_token',
          'This form has expired or was not sent from this site. Go back, reload the page and try again (cookies must be enabled).');
      }
    }
    if (secret) {
      ctx.state.csrfToken = tokenFor(options.keys[0]!, secret).toString('base64url');
    } else if (options.secure && !ctx.secure) {
      // A Secure cookie cannot be set on a plain-http request: the proxy or TRUST_PROXY is misconfigured.
      throw new AppError('invalid_request', 'This server must be reached over https.');
    } else {
      const fresh = randomBytes(32).toString('base64url');
      ctx.cookies.set(name, fresh, cookieOptions);
      ctx.state.csrfToken = tokenFor(options.keys[0]!, fresh).toString('base64url');
    }
    return next();
  };
}
