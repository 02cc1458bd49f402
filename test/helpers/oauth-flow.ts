// Drives the authorization code flow the way a browser and an MCP client would: register, authorize
// with PKCE and `resource`, sign in, consent, and exchange the code. Each step returns raw responses.
import { createHash, randomBytes } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent.js';
import { expect } from 'vitest';
import type { TestApp } from './test-app.ts';
import { PASSWORD } from './test-app.ts';

export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** Path and query of a URL the server redirected to (the agent talks to the test server directly). */
export const pathOf = (location: string) => {
  const url = new URL(location, 'http://localhost:4000');
  return `${url.pathname}${url.search}`;
};

export async function registerClient(app: TestApp, metadata: Record<string, unknown> = {}) {
  const response = await app.http().post('/reg').send({
    client_name: 'Test MCP Client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...metadata,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { client_id: string };
}

export interface AuthorizeOptions {
  clientId: string;
  resource?: string | string[];
  scope?: string;
  redirectUri?: string;
  codeChallenge?: string | undefined;
  codeChallengeMethod?: string | undefined;
  extra?: Record<string, string>;
}

export function authorizeQuery(options: AuthorizeOptions & { state: string }) {
  const params = new URLSearchParams({
    response_type: 'code', client_id: options.clientId, redirect_uri: options.redirectUri ?? REDIRECT_URI,
    state: options.state, ...options.extra,
  });
  if (options.scope !== undefined) params.set('scope', options.scope);
  if (options.codeChallenge !== undefined) params.set('code_challenge', options.codeChallenge);
  if (options.codeChallengeMethod !== undefined) params.set('code_challenge_method', options.codeChallengeMethod);
  for (const resource of [options.resource ?? []].flat()) params.append('resource', resource);
  return `/auth?${params}`;
}

/** Follows redirects inside the authorization server until one leaves it (to the client) or a page renders. */
export async function follow(browser: TestAgent, path: string) {
  let response = await browser.get(path);
  while (response.status >= 300 && response.status < 400) {
    const location = response.headers.location as string;
    if (!location.startsWith('http://localhost:4000') && !location.startsWith('/')) return response;
    response = await browser.get(pathOf(location));
  }
  return response;
}

/** The anti-forgery field of a page's form (views/partials/csrf.ejs); '' when the page has none. */
export const csrfTokenOf = (html: string) => /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';

export async function signIn(browser: TestAgent, interactionPath: string, email: string, password = PASSWORD) {
  const csrf = csrfTokenOf((await browser.get(interactionPath)).text);
  const response = await browser.post(`${interactionPath}/login`).type('form').send({ email, password, csrf });
  expect(response.status, response.text).toBe(303);
  return follow(browser, pathOf(response.headers.location as string));
}

/** The scope checkboxes a consent page renders checked: what a person who just clicks Allow submits. */
export function checkedScopes(html: string): string[] {
  return [...html.matchAll(/<input type="checkbox"[^>]*name="scope" value="([^"]*)"([^>]*)>/g)]
    .filter((match) => /\bchecked\b/.test(match[2] ?? ''))
    .map((match) => match[1]!.replaceAll('&#58;', ':'));
}

/** Answers the consent page; `scopes` defaults to the boxes the page checks by default. */
export async function decide(browser: TestAgent, interactionPath: string, decision: 'approve' | 'deny', scopes?: string[]) {
  const page = (await browser.get(interactionPath)).text;
  const chosen = scopes ?? checkedScopes(page);
  const form = new URLSearchParams({ decision, csrf: csrfTokenOf(page) });
  for (const scope of chosen) form.append('scope', scope);
  const response = await browser.post(`${interactionPath}/confirm`).type('form').send(form.toString());
  expect(response.status, response.text).toBe(303);
  return follow(browser, pathOf(response.headers.location as string));
}

/** The whole front channel: authorize → login → consent(approve) → the redirect back with a code. */
export async function obtainCode(app: TestApp, browser: TestAgent, email: string, options: AuthorizeOptions) {
  const state = randomBytes(8).toString('hex');
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({ codeChallenge: pkce.challenge, codeChallengeMethod: 'S256', ...options, state }));
  const interactionPath = () => new URL(page.request.url).pathname;
  if (page.status === 200 && page.text.includes('name="password"')) page = await signIn(browser, interactionPath(), email);
  if (page.status === 200 && page.text.includes('name="decision"')) page = await decide(browser, interactionPath(), 'approve');
  expect(page.status, page.text).toBe(303);
  const callback = new URL(page.headers.location as string);
  return { callback, code: callback.searchParams.get('code'), state, verifier: pkce.verifier, app };
}

export async function exchangeCode(app: TestApp, params: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, ...params })) {
    for (const v of [value].flat()) body.append(key, v);
  }
  return app.http().post('/token').type('form').send(body.toString());
}

export async function refresh(app: TestApp, params: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries({ grant_type: 'refresh_token', ...params })) {
    for (const v of [value].flat()) body.append(key, v);
  }
  return app.http().post('/token').type('form').send(body.toString());
}

/** The "Continue to …" link of the leaving page (views/leaving.ejs); undefined when the page has none. */
export const leavingLinkOf = (html: string) => {
  const href = /<a class="button primary" href="([^"]*)"/.exec(html)?.[1];
  const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#34;': '"', '&#39;': "'" };
  return href?.replace(/&(amp|lt|gt|#34|#39);/g, (entity) => entities[entity]!);
};

/**
 * Where an answer sends the browser back to the client: the 303's Location, or, for a client nobody
 * vetted, the link of the "You are leaving" page that stands in for the automatic redirect.
 */
export function clientRedirectOf(response: { status: number; headers: Record<string, string>; text: string }): URL {
  if (response.status === 303) return new URL(response.headers.location!);
  expect(response.status, response.text).toBe(200);
  expect(response.headers.location).toBeUndefined();
  const href = leavingLinkOf(response.text);
  expect(href, response.text).toEqual(expect.any(String));
  return new URL(href!);
}
