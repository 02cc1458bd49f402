// Decides whether a state-changing request to our pages came from another site, from the headers
// browsers set themselves (Origin, Sec-Fetch-Site) and a page cannot forge. The CSRF token is checked too.
import type Koa from 'koa';

/**
 * Why the request is cross-site, or undefined when it is not (or the browser does not say).
 *
 * `Origin: null` is not refused: our pages send `Referrer-Policy: no-referrer`, and with that policy
 * browsers serialise the Origin of a same-origin form POST as `null` (Fetch §3.1 "serializing a request
 * origin"). Sec-Fetch-Site is unaffected by the referrer policy and still says `cross-site` for a forged
 * POST; older browsers that send neither are left to the CSRF token and SameSite=Lax cookies.
 */
export function crossSiteReason(ctx: Koa.Context, ownOrigin: string): string | undefined {
  // `same-site` is a sibling host (another subdomain): a different origin, never one of our pages.
  const fetchSite = ctx.get('sec-fetch-site').toLowerCase();
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') return `Sec-Fetch-Site: ${fetchSite}`;
  const origin = ctx.get('origin');
  if (origin && origin !== 'null' && origin !== ownOrigin) return `Origin ${origin.slice(0, 200)}`;
  return undefined;
}
