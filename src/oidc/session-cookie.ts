// How oidc-provider sets its session cookie (options `cookies.long`, lifetime `ttl.Session`), kept per
// provider so our pages outside its routes (the /account portal) set the very same cookie.
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';

export interface SessionCookiePolicy {
  /** `cookies.long` as configured: every option oidc-provider passes when it sets the session cookie. */
  options: NonNullable<NonNullable<Configuration['cookies']>['long']>;
  ttlSeconds: number;
}

const policies = new WeakMap<Provider, SessionCookiePolicy>();

/** Called once by createProvider with the configuration it built the provider from. */
export function rememberSessionCookiePolicy(provider: Provider, configuration: Configuration): void {
  const ttl = configuration.ttl?.Session;
  if (typeof ttl !== 'number') throw new TypeError('ttl.Session must be a number of seconds for the account portal');
  policies.set(provider, { options: { ...configuration.cookies?.long }, ttlSeconds: ttl });
}

export function sessionCookiePolicy(provider: Provider): SessionCookiePolicy {
  const policy = policies.get(provider);
  if (!policy) throw new Error('createProvider did not record the session cookie policy');
  return policy;
}
