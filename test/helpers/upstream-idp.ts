// A real second OpenID provider (oidc-provider, configured as an ordinary organisation IdP) on a loopback port:
// people with email, email_verified and groups, a confidential client for Portcullis, a plain login page
// (type the username), consent given automatically. For federated sign-in tests, in a browser or over HTTP.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface UpstreamUser { sub: string; email?: string; email_verified?: boolean; name?: string; groups?: string[] }

export interface UpstreamIdpOptions {
  redirectUris: string[];
  users: UpstreamUser[];
  clientId?: string;
  clientSecret?: string;
  postLogoutRedirectUris?: string[];
}

export interface UpstreamIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  provider: Provider;
  /** Change what the provider says of a person from now on (a new email, other groups). */
  updateUser(sub: string, change: Partial<UpstreamUser>): void;
  addUser(user: UpstreamUser): void;
  /**
   * Plays the person's browser at the provider over HTTP: follows `authorizationUrl`, signs in as `sub`,
   * consents, and returns the URL the provider sends the browser back to (our callback with code, state, iss).
   */
  signInOverHttp(authorizationUrl: string, sub: string): Promise<URL>;
  close(): Promise<void>;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startUpstreamIdp(options: UpstreamIdpOptions): Promise<UpstreamIdp> {
  const users = new Map(options.users.map((user) => [user.sub, { ...user }]));
  const clientId = options.clientId ?? 'portcullis';
  const clientSecret = options.clientSecret ?? `secret-${Math.random().toString(36).slice(2)}-${'x'.repeat(24)}`;
  let provider: Provider | undefined;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://upstream.invalid');
      const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
      if (!match) return provider!.callback()(req, res);
      const details = await provider!.interactionDetails(req, res);
      if (req.method === 'POST' && match[2]) {
        const user = (await formBody(req)).get('user') ?? '';
        if (!users.has(user)) {
          res.statusCode = 401;
          res.setHeader('content-type', 'text/html');
          return res.end('<!doctype html><title>Upstream</title><p>No such user</p>');
        }
        return provider!.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
      }
      if (details.prompt.name === 'login') {
        res.setHeader('content-type', 'text/html');
        return res.end(`<!doctype html><title>Upstream IdP sign-in</title><h1>Upstream IdP</h1>
<form method="post" action="/interaction/${escapeHtml(details.uid)}/login"><label for="user">Username</label>
<input id="user" name="user"><button type="submit">Sign in upstream</button></form>`);
      }
      // Consent is the organisation's: given at once for what was asked.
      const grant = details.grantId ? (await provider!.Grant.find(details.grantId))!
        : new provider!.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      return provider!.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = new Provider(issuer, {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris, response_types: ['code'],
      grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_basic',
      post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
    }],
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    async findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...users.get(sub) }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['upstream-cookie-key-upstream-cookie-key'] },
  });
  // oidc-provider logs its dev-only warnings once per process; they say nothing about the test.
  return {
    issuer, clientId, clientSecret, provider,
    updateUser: (sub, change) => users.set(sub, { ...users.get(sub)!, ...change }),
    addUser: (user) => users.set(user.sub, { ...user }),
    async signInOverHttp(authorizationUrl, sub) {
      const jar = new Map<string, string>();
      const send = async (url: string, init: RequestInit = {}) => {
        const response = await fetch(url, {
          ...init, redirect: 'manual',
          headers: { ...(init.headers as Record<string, string> | undefined), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair!.indexOf('=');
          jar.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
        return response;
      };
      let location = authorizationUrl;
      for (let hop = 0; hop < 20; hop += 1) {
        const url = new URL(location, issuer);
        if (url.origin !== issuer) return url;
        const interaction = /^\/interaction\/([\w-]+)$/.exec(url.pathname);
        const response = interaction
          ? await send(url.href).then(async (page) => {
            if (page.status !== 200) return page;
            const html = await page.text();
            if (!html.includes('name="user"')) return page;
            return send(`${url.href}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ user: sub }).toString() });
          })
          : await send(url.href);
        const next = response.headers.get('location');
        if (!next) throw new Error(`upstream sign-in stopped at ${url.pathname} with HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
        location = next;
      }
      throw new Error('upstream sign-in did not come back');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
