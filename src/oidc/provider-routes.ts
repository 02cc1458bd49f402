// Which of oidc-provider's routes a request reaches: its own router's `match`, the one authority on how it
// matches (letter case folded, one trailing slash ignored), so our gates key on the route, not on a spelling.
import type Provider from 'oidc-provider';
import providerInternals from 'oidc-provider/lib/helpers/weak_cache.js';

/** One of oidc-provider's routes: its name ('token', 'registration', 'client_delete', ...) and path template. */
export interface ProviderRoute { name: string; template: string }
export interface ProviderRoutes {
  /** The route oidc-provider would run for this method and path (relative to the issuer's mount path). */
  match(method: string, path: string): ProviderRoute | undefined;
}

interface InternalRouter { match(method: string, path: string): { route: { name: string; path: string } } | undefined }

/**
 * oidc-provider offers no public way to ask which route a path reaches before running it, so its router is
 * read from the instance's internals. If they ever change shape, the server refuses to start rather than
 * guess (and test/http/route-spellings.test.ts fails).
 */
export function providerRoutes(provider: Provider): ProviderRoutes {
  const router = (providerInternals(provider) as { router?: Partial<InternalRouter> } | undefined)?.router;
  if (typeof router?.match !== 'function') {
    throw new Error('oidc-provider\'s router cannot be read: route resolution (src/oidc/provider-routes.ts) must be updated');
  }
  const internal = router as InternalRouter;
  return {
    match(method, path) {
      const matched = internal.match(method, path);
      return matched ? { name: matched.route.name, template: matched.route.path } : undefined;
    },
  };
}
