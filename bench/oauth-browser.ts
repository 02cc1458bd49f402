// Drives Portcullis over HTTP the way a browser and an MCP client do: register a public client, walk
// authorize → login → consent → callback with a cookie jar, and call the token endpoint.
import { createHash, randomBytes } from 'node:crypto';
import { header, type HttpConnection, type HttpResponse } from './http-connection.ts';

export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

/** Cookies by path, enough for oidc-provider's: name=value, Path, and expiry in the past = deletion. */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(response: HttpResponse): void {
    const setCookies = response.headers['set-cookie'];
    for (const line of [setCookies ?? []].flat()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', attributeValue = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = attributeValue;
        if (key.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
        if (key.toLowerCase() === 'max-age' && Number(attributeValue) <= 0) expired = true;
      }
      const key = `${name}\u0000${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  headerFor(requestPath: string): string | undefined {
    const path = requestPath.split('?')[0] ?? '/';
    const matching = [...this.cookies.values()].filter((cookie) =>
      path === cookie.path || path.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`));
    return matching.length ? matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') : undefined;
  }
}

export interface Browser {
  connection: HttpConnection;
  jar: CookieJar;
  /** Called after every response, e.g. to attribute database round trips to requests. */
  observe?: (method: string, path: string, status: number) => void | Promise<void>;
}

const FORM = 'application/x-www-form-urlencoded';

async function browse(browser: Browser, method: 'GET' | 'POST', path: string, form?: URLSearchParams) {
  const headers: Record<string, string> = { Accept: 'text/html' };
  const cookie = browser.jar.headerFor(path);
  if (cookie) headers.Cookie = cookie;
  if (form) headers['Content-Type'] = FORM;
  const response = await browser.connection.request(method, path, headers, form?.toString());
  browser.jar.store(response);
  await browser.observe?.(method, path, response.status);
  return response;
}

/** The anti-forgery field of a page's form (views/partials/csrf.ejs). */
const csrfTokenOf = (page: string) => /name="csrf" value="([^"]*)"/.exec(page)?.[1] ?? '';

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeRequest {
  clientId: string;
  resource: string;
  scope: string;
  /** Extra authorization parameters, e.g. { prompt: 'consent' }. */
  extra?: Record<string, string>;
  /** Used when the server asks for a login. */
  credentials?: { email: string; password: string };
}

export class FlowError extends Error {
  override name = 'FlowError';
}

/** The front channel: authorize, sign in and approve as asked, until the redirect to the client. */
export async function obtainCode(browser: Browser, request: AuthorizeRequest): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code', client_id: request.clientId, redirect_uri: REDIRECT_URI, scope: request.scope,
    resource: request.resource, state, code_challenge: challenge, code_challenge_method: 'S256', ...request.extra,
  });
  const origin = `http://${browser.connection.authority}`;
  let response = await browse(browser, 'GET', `/auth?${query}`);
  let path = '/auth';
  for (let step = 0; step < 12; step += 1) {
    const location = header(response, 'location');
    if (response.status >= 300 && response.status < 400 && location) {
      if (location.startsWith(REDIRECT_URI)) {
        const callback = new URL(location);
        const code = callback.searchParams.get('code');
        if (!code || callback.searchParams.get('state') !== state) {
          throw new FlowError(`callback without a code: ${location}`);
        }
        return { code, verifier };
      }
      path = location.startsWith(origin) ? location.slice(origin.length) : location;
      response = await browse(browser, 'GET', path);
      continue;
    }
    const page = response.body.toString('utf8');
    if (response.status === 200 && page.includes('name="password"')) {
      if (!request.credentials) throw new FlowError('asked to sign in without credentials');
      response = await browse(browser, 'POST', `${path}/login`, new URLSearchParams({ ...request.credentials, csrf: csrfTokenOf(page) }));
      continue;
    }
    if (response.status === 200 && page.includes('name="decision"')) {
      // A person approving everything the client asks for: every offered box ticked.
      const form = new URLSearchParams({ decision: 'approve', csrf: csrfTokenOf(page) });
      for (const [, scope] of page.matchAll(/<input type="checkbox"[^>]*name="scope" value="([^"]*)"/g)) form.append('scope', scope!);
      response = await browse(browser, 'POST', `${path}/confirm`, form);
      continue;
    }
    throw new FlowError(`unexpected ${response.status} at ${path}: ${page.slice(0, 300)}`);
  }
  throw new FlowError('too many redirects');
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

async function postToken(connection: HttpConnection, form: Record<string, string>): Promise<TokenResponse> {
  const response = await connection.request('POST', '/token', { 'Content-Type': FORM, Accept: 'application/json' },
    new URLSearchParams(form).toString());
  if (response.status !== 200) throw new FlowError(`token endpoint ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`);
  return JSON.parse(response.body.toString('utf8')) as TokenResponse;
}

export function exchangeCode(connection: HttpConnection, clientId: string, code: string, verifier: string) {
  return postToken(connection, {
    grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId,
  });
}

export function refreshGrant(connection: HttpConnection, clientId: string, refreshToken: string) {
  return postToken(connection, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
}

/** Dynamic client registration (RFC 7591) of a public client, as an MCP client does it. */
export async function registerPublicClient(connection: HttpConnection): Promise<string> {
  const response = await connection.request('POST', '/reg', { 'Content-Type': 'application/json' }, JSON.stringify({
    client_name: 'Bench MCP Client', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  }));
  if (response.status !== 201) throw new FlowError(`registration ${response.status}: ${response.body.toString('utf8')}`);
  return (JSON.parse(response.body.toString('utf8')) as { client_id: string }).client_id;
}
