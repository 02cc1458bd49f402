// Redirects for unvetted clients (issue 11 §8, RFC 9700 §4.11.2): error redirects before the person
// approved the client, and logout redirects, stop at a page naming the destination; operator clients
// keep their automatic 303; post_logout_redirect_uri only to a registered URI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type TestAgent from 'supertest/lib/agent.js';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import {
  authorizeQuery, clientRedirectOf, decide, follow, obtainCode, pkcePair, REDIRECT_URI, registerClient, signIn,
} from '../helpers/oauth-flow.ts';
import { addOperatorClient } from '../../src/clients/store.ts';

const NOTES = 'https://mcp.example.com/mcp';
const AFTER_LOGOUT = 'http://127.0.0.1:33418/after-logout';
let app: TestApp;
let email: string;
beforeAll(async () => { ({ app, email } = await createNotesTestApp(NOTES)); });
afterAll(async () => app?.close());

const selfRegistered = async () => (await registerClient(app, { client_name: 'Unvetted Agent', post_logout_redirect_uris: [AFTER_LOGOUT] })).client_id;
const operatorClient = async () => (await addOperatorClient(app.db, { name: 'Operator App', redirectUris: [REDIRECT_URI], confidential: false })).clientId;

const withPkce = (clientId: string, extra: Record<string, string> = {}, scope = 'notes:read') => {
  const pkce = pkcePair();
  return authorizeQuery({ clientId, resource: NOTES, scope, state: 's1', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256', extra });
};

/** The leaving page: 200, no Location, the destination host named, the client's error in the link. */
function expectLeavingPage(response: { status: number; headers: Record<string, string>; text: string }, error?: string) {
  expect(response.status, response.text).toBe(200);
  expect(response.headers.location).toBeUndefined();
  expect(response.text).toContain('You are leaving Portcullis for 127.0.0.1:33418');
  expect(response.text).not.toContain('<script');
  expect(response.headers['content-security-policy']).toContain("script-src 'self'");
  expect(response.headers['cache-control']).toBe('no-store');
  const destination = clientRedirectOf(response);
  if (error) expect(destination.searchParams.get('error') ?? new URLSearchParams(destination.hash.slice(1)).get('error')).toBe(error);
  return destination;
}

describe('authorization errors before the person has approved the client', () => {
  it('a self-registered client\'s invalid request (no PKCE) stops at the leaving page, with state and iss in its link', async () => {
    const clientId = await selfRegistered();
    const response = await app.browser().get(authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's1' }));
    const destination = expectLeavingPage(response, 'invalid_request');
    expect(destination.origin + destination.pathname).toBe(REDIRECT_URI);
    expect(destination.searchParams.get('state')).toBe('s1');
    expect(destination.searchParams.get('iss')).toBe(app.config.issuer);
    expect(response.text).toContain('Unvetted Agent');
  });

  it('an operator client\'s same error is an automatic 303 to its redirect URI', async () => {
    const clientId = await operatorClient();
    const response = await app.browser().get(authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's1' }));
    expect(response.status).toBe(303);
    expect(new URL(response.headers.location as string).searchParams.get('error')).toBe('invalid_request');
  });

  it('prompt=none without a session: login_required on the leaving page for a self-registered client, 303 for an operator one', async () => {
    expectLeavingPage(await app.browser().get(withPkce(await selfRegistered(), { prompt: 'none' })), 'login_required');
    const operator = await app.browser().get(withPkce(await operatorClient(), { prompt: 'none' }));
    expect(operator.status).toBe(303);
    expect(new URL(operator.headers.location as string).searchParams.get('error')).toBe('login_required');
  });

  it('an unknown resource (invalid_target) in fragment mode: the link keeps the fragment', async () => {
    const clientId = await selfRegistered();
    const pkce = pkcePair();
    const response = await app.browser().get(authorizeQuery({
      clientId, resource: 'https://unknown.example/mcp', scope: 'notes:read', state: 's1', codeChallenge: pkce.challenge,
      codeChallengeMethod: 'S256', extra: { response_mode: 'fragment' },
    }));
    const destination = expectLeavingPage(response, 'invalid_target');
    expect(destination.search).toBe('');
  });

  it('form_post: the error is posted only when the person clicks (a form, no self-submitting script)', async () => {
    const clientId = await selfRegistered();
    const response = await app.browser().get(authorizeQuery({
      clientId, resource: NOTES, scope: 'notes:read', state: 's1', extra: { response_mode: 'form_post' },
    }));
    expect(response.status, response.text).toBe(200);
    expect(response.text).toContain('You are leaving Portcullis for 127.0.0.1:33418');
    expect(response.text).toContain(`<form method="post" action="${REDIRECT_URI}">`);
    expect(response.text).toContain('<input type="hidden" name="error" value="invalid_request">');
    expect(response.text).toContain('<input type="hidden" name="state" value="s1">');
    expect(response.text).not.toContain('<script');
  });

  it('Deny on a client the person never approved stops at the leaving page; Deny after an approval goes straight back', async () => {
    const clientId = await selfRegistered();
    const browser = app.browser();
    let page = await follow(browser, withPkce(clientId));
    page = await signIn(browser, new URL(page.request.url).pathname, email);
    const denied = await denyOn(browser, page);
    expectLeavingPage(denied, 'access_denied');

    await obtainCode(app, browser, email, { clientId, resource: NOTES, scope: 'notes:read' });
    const stepUp = await follow(browser, withPkce(clientId, {}, 'notes:read notes:write'));
    expect(stepUp.status, stepUp.text).toBe(200);
    const again = await denyOn(browser, stepUp);
    expect(again.status).toBe(303);
    expect(new URL(again.headers.location as string).searchParams.get('error')).toBe('access_denied');
  });

  it('a successful answer (a code) after consent is an automatic 303 for a self-registered client', async () => {
    const { callback, code } = await obtainCode(app, app.browser(), email, { clientId: await selfRegistered(), resource: NOTES, scope: 'notes:read' });
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(code).toEqual(expect.any(String));
  });
});

async function denyOn(browser: TestAgent, page: { status: number; request: { url: string } }) {
  expect(page.status).toBe(200);
  return decide(browser, new URL(page.request.url).pathname, 'deny');
}

/** Signs in through a code flow, then asks oidc-provider to sign out with these parameters; returns the confirm answer. */
async function signOut(clientId: string, params: Record<string, string>) {
  const browser = app.browser();
  await obtainCode(app, browser, email, { clientId, resource: NOTES, scope: 'notes:read' });
  const page = await browser.get(`/session/end?${new URLSearchParams({ client_id: clientId, ...params })}`);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!xsrf) return page;
  return browser.post('/session/end/confirm').type('form').send({ xsrf, logout: 'yes' });
}

describe('logout redirects', () => {
  it('a self-registered client\'s post_logout_redirect_uri stops at the leaving page, state in its link', async () => {
    const done = await signOut(await selfRegistered(), { post_logout_redirect_uri: AFTER_LOGOUT, state: 'bye' });
    const destination = expectLeavingPage(done);
    expect(destination.origin + destination.pathname).toBe(AFTER_LOGOUT);
    expect(destination.searchParams.get('state')).toBe('bye');
    expect(done.text).toContain('You are signed out');
  });

  it('an operator client\'s post_logout_redirect_uri is an automatic 303', async () => {
    const client = await addOperatorClient(app.db, { name: 'Operator App', redirectUris: [REDIRECT_URI], confidential: false });
    await app.db.query(`UPDATE oidc_models SET payload = jsonb_set(payload, '{post_logout_redirect_uris}', $2::jsonb) WHERE model = 'Client' AND id = $1`,
      [client.clientId, JSON.stringify([AFTER_LOGOUT])]);
    const done = await signOut(client.clientId, { post_logout_redirect_uri: AFTER_LOGOUT });
    expect(done.status).toBe(303);
    expect(new URL(done.headers.location as string).origin + new URL(done.headers.location as string).pathname).toBe(AFTER_LOGOUT);
  });

  it('refuses a post_logout_redirect_uri the client did not register: an error page, no redirect', async () => {
    const done = await signOut(await selfRegistered(), { post_logout_redirect_uri: 'https://evil.example/after' });
    expect(done.status).toBe(400);
    expect(done.headers.location).toBeUndefined();
    expect(done.text).not.toContain('evil.example/after');
  });

  it('without a client, a post_logout_redirect_uri is ignored: the browser ends on Portcullis\'s own signed-out page', async () => {
    const browser = app.browser();
    await obtainCode(app, browser, email, { clientId: await selfRegistered(), resource: NOTES, scope: 'notes:read' });
    const page = await browser.get(`/session/end?${new URLSearchParams({ post_logout_redirect_uri: AFTER_LOGOUT })}`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    const done = await browser.post('/session/end/confirm').type('form').send({ xsrf: xsrf!, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(new URL(done.headers.location as string, app.config.issuer).origin).toBe(app.config.issuer);
  });
});
