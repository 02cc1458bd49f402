// Drives the grants portal /account as a browser would (each POST carries the page's anti-forgery
// field), and connects clients through the real OAuth flow so there are grants to see and revoke.
import type TestAgent from 'supertest/lib/agent.js';
import { expect } from 'vitest';
import {
  authorizeQuery, csrfTokenOf, decide, exchangeCode, follow, pkcePair, registerClient, signIn,
} from './oauth-flow.ts';
import { PASSWORD, type TestApp } from './test-app.ts';

/** POSTs a form of /account the way its page does: with the csrf field of a freshly loaded page. */
export async function postAccountForm(browser: TestAgent, path: string, fields: Record<string, string> = {}) {
  const csrf = csrfTokenOf((await browser.get('/account')).text);
  return browser.post(path).type('form').send({ ...fields, csrf });
}

/** Signs in through the portal's own form; returns the POST's response (303 on success). */
export function signInToPortal(browser: TestAgent, email: string, password = PASSWORD) {
  return postAccountForm(browser, '/account/login', { email, password });
}

export interface ConnectedClient { clientId: string; refreshToken: string; grantId: string }

/**
 * Registers a client and runs the whole flow in `browser` (signing in there if needed), approving
 * `approve` (default: what the consent page pre-checks), then redeems the code: the person now has a
 * grant for that client, and the client a refresh token.
 */
export async function connectClient(
  app: TestApp, browser: TestAgent, email: string,
  { resource, scope, approve, clientId: existing, metadata = {} }:
  { resource: string; scope: string; approve?: string[]; clientId?: string; metadata?: Record<string, unknown> },
): Promise<ConnectedClient> {
  const clientId = existing ?? (await registerClient(app, metadata)).client_id;
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({
    clientId, resource, scope, state: 'portal-test', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
  }));
  const interactionPath = () => new URL(page.request.url).pathname;
  if (page.status === 200 && page.text.includes('name="password"')) page = await signIn(browser, interactionPath(), email);
  if (page.status === 200 && page.text.includes('name="decision"')) page = await decide(browser, interactionPath(), 'approve', approve);
  expect(page.status, page.text).toBe(303);
  const code = new URL(page.headers.location as string).searchParams.get('code');
  const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: pkce.verifier, resource });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  const { rows } = await app.db.query<{ id: string }>(
    `SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1
     ORDER BY (payload->>'iat')::bigint DESC LIMIT 1`, [clientId]);
  return { clientId, refreshToken: token.body.refresh_token as string, grantId: rows[0]!.id };
}

/** How many rows oidc-provider holds for this grant: the Grant itself and every token issued under it. */
export async function rowsOfGrant(app: TestApp, grantId: string): Promise<number> {
  const { rows } = await app.db.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM oidc_models WHERE (model = 'Grant' AND id = $1) OR grant_id = $1", [grantId]);
  return Number(rows[0]!.n);
}

/** The grant ids the /account page offers to revoke. */
export const revocableGrantIds = (html: string) =>
  [...html.matchAll(/name="grant_id" value="([^"]*)"/g)].map((match) => match[1]!);
