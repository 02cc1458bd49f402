// The routes the hostile-input sweep drives, each with its parameters, a valid base request and the
// session it needs (a browser mid-sign-in, a signed-in person, an admin's console, an API token).
import type TestAgent from 'supertest/lib/agent.js';
import { signInToPortal } from '../helpers/portal.ts';
import { authorizeQuery, csrfTokenOf, pkcePair, REDIRECT_URI, registerClient } from '../helpers/oauth-flow.ts';
import { notesResource } from '../helpers/test-app.ts';
import { csrfFor, registeredAdminRoutes, type AdminTestApp } from '../admin/helpers.ts';

export type Placement = 'query' | 'form' | 'json' | 'path' | 'basic';

export interface SweepRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With `{param}` where a path segment may carry the hostile value. */
  path: string;
  params: string[];
  placements: Placement[];
  /** Fields every request carries, so a check past the first one is reached. */
  base(): Record<string, string>;
  agent(): TestAgent;
  /** What `{param}` holds when the hostile value goes elsewhere (a real id, so the route gets past its lookup). */
  pathValue?: string;
  /** Extra headers (a bearer token). */
  headers?: Record<string, string>;
  /** Routes that fetch from the network or sign out: only values that must be refused before anything runs. */
  onlyUnstorable?: boolean;
}

const NOTES = 'https://mcp.example.com/mcp';
const ADMIN_FIELDS = ['name', 'uri', 'email', 'password', 'scope', 'scopes', 'ttl', 'since', 'until', 'user', 'client', 'type', 'limit',
  'before', 'risk', 'description', 'is_admin', 'access_token_format', 'token_format', 'allowed_clients', 'force', 'kid', 'account_id', 'client_id', 'resource'];

/** Builds the table over a live app: a resource, a registered client, a browser at the sign-in page, signed-in sessions. */
export async function buildSweepRoutes(app: AdminTestApp): Promise<SweepRoute[]> {
  await app.addResource(notesResource(NOTES));
  const client = await registerClient(app) as { client_id: string; registration_access_token: string };
  const pkce = pkcePair();
  const authorize = { response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI, scope: 'notes:read', state: 's',
    code_challenge: pkce.challenge, code_challenge_method: 'S256', resource: NOTES };

  // A browser mid-authorization: its interaction uid and the sign-in page's CSRF field.
  const signingIn = app.browser();
  const started = await signingIn.get(authorizeQuery({ clientId: client.client_id, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  const uid = /\/interaction\/([^/?]+)/.exec(started.headers.location as string)![1]!;
  const interactionCsrf = csrfTokenOf((await signingIn.get(`/interaction/${uid}`)).text);

  const person = app.browser();
  await signInToPortal(person, app.user.email);
  const personCsrf = csrfTokenOf((await person.get('/account')).text);
  const console = await app.adminBrowser();
  const consoleCsrf = await csrfFor(console);
  // Signing out ends the session every later request relies on: those routes get a browser of their own.
  const signedOut = app.browser();
  const signedOutCsrf = await csrfFor(signedOut);

  const oauth = (method: SweepRoute['method'], path: string, params: string[], base: () => Record<string, string>, placements: Placement[] = ['form']): SweepRoute =>
    ({ method, path, params, base, placements, agent: () => app.http() });
  const routes: SweepRoute[] = [
    { ...oauth('GET', '/auth', [...Object.keys(authorize), 'nonce', 'prompt', 'claims', 'max_age', 'login_hint', 'ui_locales', 'request_uri'], () => authorize, ['query']), agent: () => app.browser() },
    { ...oauth('POST', '/auth', Object.keys(authorize), () => authorize), agent: () => app.browser() },
    { ...oauth('GET', '/auth/{param}', ['x'], () => ({}), ['path', 'query']), agent: () => signingIn, pathValue: uid },
    oauth('POST', '/token', ['grant_type', 'client_id', 'code', 'code_verifier', 'redirect_uri', 'refresh_token', 'resource', 'scope', 'client_secret', 'client_assertion'],
      () => ({ grant_type: 'refresh_token', client_id: client.client_id, refresh_token: 'not-a-token' }), ['form', 'basic']),
    oauth('POST', '/token', ['code', 'code_verifier', 'redirect_uri'],
      () => ({ grant_type: 'authorization_code', client_id: client.client_id, code: 'not-a-code', code_verifier: pkce.verifier, redirect_uri: REDIRECT_URI }), ['form']),
    oauth('POST', '/token/introspection', ['token', 'token_type_hint', 'client_id'], () => ({ token: 'abc', client_id: client.client_id }), ['form', 'basic']),
    oauth('POST', '/token/revocation', ['token', 'token_type_hint', 'client_id'], () => ({ token: 'abc', client_id: client.client_id }), ['form', 'basic']),
    oauth('POST', '/reg', ['redirect_uris', 'client_name', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'scope', 'contacts', 'logo_uri',
      'client_uri', 'application_type', 'jwks', 'software_id', 'post_logout_redirect_uris', 'extra'], () => ({ client_name: 'Sweep', token_endpoint_auth_method: 'none' }), ['json']),
    { ...oauth('GET', '/reg/{param}', ['client_id'], () => ({ client_id: client.client_id }), ['path', 'query']), headers: { authorization: `Bearer ${client.registration_access_token}` }, pathValue: client.client_id },
    { ...oauth('DELETE', '/reg/{param}', ['x'], () => ({}), ['path']), headers: { authorization: `Bearer ${client.registration_access_token}` }, onlyUnstorable: true, pathValue: client.client_id },
    { ...oauth('GET', '/session/end', ['id_token_hint', 'post_logout_redirect_uri', 'client_id', 'state', 'logout_hint', 'ui_locales'], () => ({ client_id: client.client_id }), ['query']), agent: () => person },
    { ...oauth('POST', '/session/end/confirm', ['xsrf', 'logout'], () => ({ logout: 'yes' })), agent: () => signedOut },
    oauth('GET', '/.well-known/oauth-authorization-server', ['x'], () => ({}), ['query']),
    { ...oauth('GET', '/.well-known/oauth-authorization-server/{param}', ['x'], () => ({}), ['path']), pathValue: 'x' },
    oauth('GET', '/.well-known/openid-configuration', ['x'], () => ({}), ['query']),
    { ...oauth('GET', '/.well-known/oauth-protected-resource/{param}', ['x'], () => ({}), ['path']), pathValue: 'mcp' },
    oauth('GET', '/jwks', ['x'], () => ({}), ['query']),
    // Our pages, as the browser that holds their session and CSRF field.
    { ...oauth('GET', '/interaction/{param}', ['x'], () => ({}), ['path', 'query']), agent: () => signingIn, pathValue: uid },
    { ...oauth('POST', `/interaction/${uid}/login`, ['email', 'password', 'csrf'], () => ({ email: app.user.email, password: 'wrong password', csrf: interactionCsrf })), agent: () => signingIn },
    { ...oauth('POST', '/interaction/{param}/login', ['email'], () => ({ email: 'a@example.com', password: 'x', csrf: interactionCsrf }), ['path']), agent: () => signingIn, pathValue: uid },
    { ...oauth('POST', `/interaction/${uid}/federation`, ['provider', 'csrf'], () => ({ provider: 'none-configured', csrf: interactionCsrf })), agent: () => signingIn },
    { ...oauth('GET', '/federation/callback', ['state', 'code', 'iss', 'error'], () => ({ state: 'unknown-state', code: 'c' }), ['query']), agent: () => signingIn },
    { ...oauth('POST', `/interaction/${uid}/confirm`, ['decision', 'scope', 'csrf'], () => ({ decision: 'deny', csrf: interactionCsrf })), agent: () => signingIn },
    { ...oauth('GET', '/account', ['x'], () => ({}), ['query']), agent: () => person },
    { ...oauth('POST', '/account/login', ['email', 'password'], () => ({ email: 'nobody@example.com', password: 'x', csrf: signedOutCsrf })), agent: () => signedOut },
    { ...oauth('POST', '/account/grants/revoke', ['grant_id'], () => ({ csrf: personCsrf })), agent: () => person },
    { ...oauth('POST', '/account/clients/revoke', ['client_id'], () => ({ csrf: personCsrf })), agent: () => person },
    { ...oauth('POST', '/account/grants/downstream/revoke', ['grant_id', 'from', 'to'], () => ({ csrf: personCsrf })), agent: () => person },
    { ...oauth('POST', '/account/federation', ['provider'], () => ({ provider: 'none-configured', csrf: signedOutCsrf })), agent: () => signedOut },
    { ...oauth('POST', '/account/identities/unlink', ['provider_id'], () => ({ csrf: personCsrf })), agent: () => person },
    { ...oauth('POST', '/account/sessions/revoke', ['session_id', 'sign_out'], () => ({ csrf: personCsrf })), agent: () => person, onlyUnstorable: true },
    { ...oauth('POST', '/account/logout', ['x'], () => ({ csrf: signedOutCsrf })), agent: () => signedOut },
  ];

  // Every route the admin module registers (read from its router), API by token, console by the admin's browser.
  const ids: Record<string, string> = { uri: NOTES, id: client.client_id, kid: 'no-such-kid' };
  for (const route of registeredAdminRoutes(app)) {
    const param = /:(uri|id|kid)/.exec(route.path)?.[1];
    const hasParam = param !== undefined;
    const fixedPath = route.path.replace(/:(uri|id|kid)/, '{param}');
    const pathValue = param === 'id' && route.path.includes('/users/') ? app.user.id : param ? ids[param] : undefined;
    const isSignOut = route.path.endsWith('/logout');
    const risky = isSignOut || route.path.endsWith('/check') || route.path.endsWith('/rotate') || route.path.includes('/users');
    const body: Placement = route.api ? 'json' : 'form';
    routes.push({
      method: route.method, path: fixedPath, params: ADMIN_FIELDS,
      placements: [route.method === 'GET' || route.method === 'DELETE' ? 'query' : body, ...(hasParam ? ['path' as const] : [])],
      base: (): Record<string, string> => (route.api ? {} : { csrf: isSignOut ? signedOutCsrf : consoleCsrf }),
      agent: () => (route.api ? app.http() : isSignOut ? signedOut : console),
      headers: route.api ? { authorization: `Bearer ${app.token}` } : undefined,
      onlyUnstorable: risky, pathValue,
    });
  }
  return routes;
}
