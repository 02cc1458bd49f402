// The route a request reaches, as plain data: what src/http/route-resolver.ts answers, once per request,
// and keeps on the request's state (state.ts) so every later step asks the same answer.

export interface MatchedRoute {
  /** Who serves it: our router, oidc-provider, or one of the discovery aliases (src/http/discovery.ts). */
  owner: 'app' | 'provider' | 'alias';
  /** oidc-provider's route name ('token', 'registration', 'client_update', ...); the template otherwise. */
  name: string;
  /** The full path template, issuer mount path included. */
  template: string;
  /** The route's spelling for this request's parameters; undefined when it has none (a malformed value). */
  canonicalPath: string | undefined;
}

export interface ResolvedRoute {
  /** Every route this spelling may reach, the first to run first (our router runs before oidc-provider). */
  routes: MatchedRoute[];
  /** The spelling to use instead; undefined when there is none (then nothing serves this request). */
  canonicalPath: string | undefined;
  /** Whether the request spelled its route so: only then may it reach a handler (src/http/canonical-path.ts). */
  spelledCanonically: boolean;
}
