// Types for oidc-provider's internal router class, which test/helpers/provider-route-recorder.ts wraps.
declare module 'oidc-provider/lib/helpers/router.js' {
  export default class Router {
    get(name: string, path: string, ...middleware: unknown[]): this;
    post(name: string, path: string, ...middleware: unknown[]): this;
    put(name: string, path: string, ...middleware: unknown[]): this;
    delete(name: string, path: string, ...middleware: unknown[]): this;
    options(name: string, path: string, ...middleware: unknown[]): this;
  }
}
