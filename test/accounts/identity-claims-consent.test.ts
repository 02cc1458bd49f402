// Identity claims are consented like scopes (issue 11 §5): a request for `openid email` lists the
// person's email on the consent page, and the ID token carries it only when the person ticked it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type TestAgent from 'supertest/lib/agent.js';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, exchangeCode, follow, pathOf, pkcePair, registerClient, signIn } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let email: string;
beforeAll(async () => { ({ app, email } = await createNotesTestApp(NOTES)); });
afterAll(async () => app?.close());

const interactionPath = (page: { request: { url: string } }) => new URL(page.request.url).pathname;

async function authorize(browser: TestAgent, clientId: string, scope: string) {
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({
    clientId, resource: NOTES, scope, state: 'st4te', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
  }));
  if (page.status === 200 && page.text.includes('name="password"')) page = await signIn(browser, interactionPath(page), email);
  return { page, verifier: pkce.verifier };
}

/** Submits the consent form with the given resource scopes and identity claims ticked. */
async function approve(browser: TestAgent, page: { text: string; request: { url: string } }, scopes: string[], claims: string[]) {
  const form = new URLSearchParams({ decision: 'approve', csrf: csrfTokenOf(page.text) });
  for (const scope of scopes) form.append('scope', scope);
  for (const claim of claims) form.append('claim', claim);
  const answer = await browser.post(`${interactionPath(page)}/confirm`).type('form').send(form.toString());
  expect(answer.status, answer.text).toBe(303);
  return follow(browser, pathOf(answer.headers.location as string));
}

async function idTokenClaims(clientId: string, back: { headers: Record<string, string> }, verifier: string) {
  const code = new URL(back.headers.location!).searchParams.get('code');
  expect(code, back.headers.location).toEqual(expect.any(String));
  const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  expect(token.body.id_token, JSON.stringify(token.body)).toEqual(expect.any(String));
  return decodeJwt(token.body.id_token as string);
}

const emailBox = /<input type="checkbox"[^>]*name="claim" value="email"/;

describe('identity claims on the consent page (self-registered client)', () => {
  it('lists the email with its value, unticked; approving without it gives an ID token without email', async () => {
    const { client_id } = await registerClient(app, { client_name: 'Claims Agent' });
    const browser = app.browser();
    const { page, verifier } = await authorize(browser, client_id, 'openid email notes:read');
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain(`Your email address (${email})`);
    expect(page.text).toMatch(emailBox);
    expect(page.text).not.toMatch(/name="claim" value="email" checked/);
    const claims = await idTokenClaims(client_id, await approve(browser, page, ['notes:read'], []), verifier);
    expect(claims.sub).toEqual(expect.any(String));
    expect(claims).not.toHaveProperty('email');
  });

  it('approving with the email ticked puts it in the ID token', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { page, verifier } = await authorize(browser, client_id, 'openid email notes:read');
    const claims = await idTokenClaims(client_id, await approve(browser, page, ['notes:read'], ['email']), verifier);
    expect(claims.email).toBe(email);
  });

  it('a declined email stays declined on the next authorization: no page, no email', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const first = await authorize(browser, client_id, 'openid email notes:read');
    await approve(browser, first.page, ['notes:read'], []);
    const again = await authorize(browser, client_id, 'openid email notes:read');
    expect(again.page.status, again.page.text).toBe(303);
    expect((await idTokenClaims(client_id, again.page, again.verifier))).not.toHaveProperty('email');
  });

  it('asks again when a client that had only openid now asks for the email too', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const first = await authorize(browser, client_id, 'openid notes:read');
    expect(first.page.text).not.toContain('Your email address');
    await approve(browser, first.page, ['notes:read'], []);
    const more = await authorize(browser, client_id, 'openid email notes:read');
    expect(more.page.status, more.page.text).toBe(200);
    expect(more.page.text).toContain(`Your email address (${email})`);
    const claims = await idTokenClaims(client_id, await approve(browser, more.page, [], ['email']), more.verifier);
    expect(claims.email).toBe(email);
  });

  it('refuses a claim the page did not offer, granting nothing', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { page } = await authorize(browser, client_id, 'openid notes:read');
    const form = new URLSearchParams({ decision: 'approve', csrf: csrfTokenOf(page.text), scope: 'notes:read', claim: 'email' });
    const answer = await browser.post(`${interactionPath(page)}/confirm`).type('form').send(form.toString());
    expect(answer.status).toBe(400);
    const { rows } = await app.db.query(`SELECT id FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1`, [client_id]);
    expect(rows).toEqual([]);
  });
});
