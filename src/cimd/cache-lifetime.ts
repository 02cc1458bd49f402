// How long a fetched metadata document stays fresh: what its HTTP caching headers say (RFC 9111),
// held within bounds so a client can neither make us refetch on every request nor pin a stale copy.

export const MIN_CACHE_SECONDS = 60;
export const MAX_CACHE_SECONDS = 24 * 3600;

const clamp = (seconds: number) => Math.max(MIN_CACHE_SECONDS, Math.min(MAX_CACHE_SECONDS, seconds));

/** Seconds to keep a document, from its Cache-Control (max-age; no-store/no-cache → minimum) or Expires. */
export function cacheLifetimeSeconds(cacheControl: string | undefined, expires: string | undefined, now = Date.now()): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((part) => part.trim());
  // We must hold the document at least through one authorization, so "do not cache" means "shortest".
  if (directives.some((directive) => directive === 'no-store' || directive === 'no-cache')) return MIN_CACHE_SECONDS;
  const maxAge = directives.map((directive) => /^max-age\s*=\s*"?(\d+)"?$/.exec(directive)?.[1]).find((value) => value !== undefined);
  if (maxAge !== undefined) return clamp(Number(maxAge));
  const expiresAt = expires ? Date.parse(expires) : Number.NaN;
  if (!Number.isNaN(expiresAt)) return clamp(Math.floor((expiresAt - now) / 1000));
  return clamp(0);
}
