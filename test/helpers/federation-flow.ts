// Drives a federated sign-in over HTTP as a browser would: start an authorization at Portcullis, choose
// "Continue with …" (or type an email), let the upstream IdP (upstream-idp.ts) sign the person in, and
// deliver its answer to ISSUER/federation/callback. Each step returns raw responses for the test to judge.
import type TestAgent from 'supertest/lib/agent.js';
import { expect } from 'vitest';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addIdentityProvider } from '../../src/federation/service.ts';
import { authorizeQuery, csrfTokenOf, follow, pathOf, pkcePair, registerClient } from './oauth-flow.ts';
import { ISSUER, TEST_SECRETS, type TestApp } from './test-app.ts';
import type { UpstreamIdp } from './upstream-idp.ts';

export const CALLBACK = `${ISSUER}/federation/callback`;

export const federationDeps = (app: { db: TestApp['db'] }, issuer = ISSUER) =>
  ({ db: app.db, keyEncryptionSecret: TEST_SECRETS.keyEncryptionSecret, issuer });

/** Configures `idp` at Portcullis as the CLI would (`idp add`). */
export function addUpstream(app: { db: TestApp['db'] }, idp: Pick<UpstreamIdp, 'issuer' | 'clientId' | 'clientSecret'>, settings: Record<string, unknown>, issuer = ISSUER) {
  return addIdentityProvider(federationDeps(app, issuer), {
    issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'],
    groupsClaim: 'groups', ...settings,
  }, CLI_OPERATOR);
}

/** An authorization started at Portcullis, left on its login page: the page and its path. */
export async function reachLoginPage(app: TestApp, browser: TestAgent, resource = 'https://mcp.example.com/mcp') {
  const { client_id: clientId } = await registerClient(app);
  const pkce = pkcePair();
  const page = await follow(browser, authorizeQuery({ clientId, resource, scope: 'notes:read', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256', state: 'client-state' }));
  expect(page.status, page.text).toBe(200);
  return { page, path: new URL(page.request.url).pathname, clientId };
}

/** Presses "Continue with …" for `provider`; the response (303 to the upstream on success). */
export async function continueWith(browser: TestAgent, loginPath: string, provider: string) {
  const csrf = csrfTokenOf((await browser.get(loginPath)).text);
  return browser.post(`${loginPath}/federation`).type('form').send({ provider, csrf });
}

/** Delivers the provider's answer to our callback in this browser (path and query only: the agent talks to the app). */
export const deliver = (browser: TestAgent, callback: URL) => browser.get(`${callback.pathname}${callback.search}`);

/** The whole happy path up to the consent page: Continue with → upstream sign-in as `sub` → callback → back to /auth. */
export async function federatedSignIn(app: TestApp, browser: TestAgent, idp: UpstreamIdp, provider: string, sub: string) {
  const { path } = await reachLoginPage(app, browser);
  const started = await continueWith(browser, path, provider);
  expect(started.status, started.text).toBe(303);
  const callback = await idp.signInOverHttp(started.headers.location as string, sub);
  const answered = await deliver(browser, callback);
  return { answered, callback, loginPath: path, next: () => follow(browser, pathOf(answered.headers.location as string)) };
}
