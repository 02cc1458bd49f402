// Records every route oidc-provider registers (method, name, path template), by wrapping its router's
// registration methods while apps are built: a route a new feature adds is tried without anyone listing it.
import ProviderRouter from 'oidc-provider/lib/helpers/router.js';

export interface RecordedProviderRoute { method: string; name: string; template: string }

const METHODS = ['get', 'post', 'put', 'delete', 'options'] as const;
type Register = (this: unknown, name: string, path: string, ...middleware: unknown[]) => unknown;

/** Starts recording; `stop()` puts the router's own methods back. GET routes also answer HEAD (as in oidc-provider). */
export function recordProviderRoutes(): { routes: RecordedProviderRoute[]; stop(): void } {
  const routes: RecordedProviderRoute[] = [];
  const prototype = ProviderRouter.prototype as unknown as Record<(typeof METHODS)[number], Register>;
  const originals = METHODS.map((method) => [method, prototype[method]] as const);
  for (const [method, original] of originals) {
    prototype[method] = function record(name, path, ...middleware) {
      routes.push({ method: method.toUpperCase(), name, template: path });
      return original.call(this, name, path, ...middleware);
    };
  }
  return { routes, stop: () => { for (const [method, original] of originals) prototype[method] = original; } };
}
