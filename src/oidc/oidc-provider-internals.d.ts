// Types for the one oidc-provider internal module we read (src/oidc/provider-routes.ts): the per-instance
// store behind a Provider, which holds its router.
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export default function instance(provider: object): unknown;
}
