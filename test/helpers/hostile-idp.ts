// An attacker-controlled OpenID provider on a loopback port: a plausible discovery document, a JWKS, an
// authorization endpoint that answers at once (code, state, RFC 9207 iss) and a token endpoint whose ID token
// the test forges (another audience, issuer, nonce, an expired one, a stranger's key, no signature…).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface HostileUser { sub: string; email: string; email_verified: boolean }

/** The ID token the provider answers with: `claims` as signed, `key` whose private half signs it (or none). */
export interface IdTokenForgery {
  /** From the honest claims (iss, sub, aud, exp, iat, nonce, email, email_verified) to those sent. */
  claims?: (honest: JWTPayload) => JWTPayload;
  /** `own`: the key its JWKS publishes (default); `stranger`: a key of the same type it never published; `none`: alg "none". */
  key?: 'own' | 'stranger' | 'none';
  /** What UserInfo says, from the honest answer (default: the same person). */
  userinfo?: (honest: Record<string, unknown>) => Record<string, unknown>;
}

export interface HostileIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The forgery the next token responses carry; {} answers honestly. */
  forge: IdTokenForgery;
  /** Plays the browser at the provider: returns where it sends the browser back (redirect_uri with code, state, iss). */
  signInOverHttp(authorizationUrl: string, user: HostileUser): Promise<URL>;
  /** How many times the token endpoint answered. */
  tokenResponses(): number;
  close(): Promise<void>;
}

interface Issued { user: HostileUser; nonce: string | undefined; clientId: string }

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
};

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function sign(claims: JWTPayload, key: CryptoKey | 'none'): Promise<string> {
  if (key === 'none') return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'hostile-1', typ: 'JWT' }).sign(key);
}

export async function startHostileIdp(options: { clientId?: string } = {}): Promise<HostileIdp> {
  const clientId = options.clientId ?? 'portcullis-at-hostile';
  const clientSecret = `hostile-${randomBytes(16).toString('hex')}`;
  const own = await generateKeyPair('RS256');
  const stranger = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(own.publicKey)), kid: 'hostile-1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, Issued>();
  const accessTokens = new Map<string, HostileUser>();
  let answered = 0;
  let issuer = '';
  const self: HostileIdp = {
    issuer, clientId, clientSecret, forge: {},
    async signInOverHttp(authorizationUrl, user) {
      const url = new URL(authorizationUrl);
      url.searchParams.set('hostile_sub', JSON.stringify(user));
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (!location) throw new Error(`the hostile provider answered ${response.status} without a redirect`);
      return new URL(location);
    },
    tokenResponses: () => answered,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const honestClaims = (issued: Issued): JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuer, sub: issued.user.sub, aud: issued.clientId, iat: now, exp: now + 300,
      ...(issued.nonce ? { nonce: issued.nonce } : {}), email: issued.user.email, email_verified: issued.user.email_verified,
    };
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', issuer);
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
          userinfo_endpoint: `${issuer}/userinfo`, response_types_supported: ['code'], subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'], code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code'], token_endpoint_auth_methods_supported: ['client_secret_basic'],
          scopes_supported: ['openid', 'email', 'profile'], authorization_response_iss_parameter_supported: true,
        });
      }
      if (url.pathname === '/jwks') return json(res, 200, { keys: [publicJwk] });
      if (url.pathname === '/authorize') {
        // Signs in whoever the test says, at once: this provider asks nobody anything.
        const user = JSON.parse(url.searchParams.get('hostile_sub') ?? 'null') as HostileUser | null;
        const redirectUri = url.searchParams.get('redirect_uri');
        if (!user || !redirectUri) return json(res, 400, { error: 'invalid_request' });
        const code = randomBytes(16).toString('hex');
        codes.set(code, { user, nonce: url.searchParams.get('nonce') ?? undefined, clientId: url.searchParams.get('client_id') ?? '' });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        back.searchParams.set('iss', issuer);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const code = (await formBody(req)).get('code') ?? '';
        const issued = codes.get(code);
        if (!issued) return json(res, 400, { error: 'invalid_grant' });
        codes.delete(code);
        const accessToken = randomBytes(16).toString('hex');
        accessTokens.set(accessToken, issued.user);
        const claims = (self.forge.claims ?? ((c) => c))(honestClaims(issued));
        const key = self.forge.key ?? 'own';
        answered += 1;
        return json(res, 200, {
          access_token: accessToken, token_type: 'Bearer', expires_in: 300, scope: 'openid email profile',
          id_token: await sign(claims, key === 'none' ? 'none' : key === 'own' ? own.privateKey : stranger.privateKey),
        });
      }
      if (url.pathname === '/userinfo') {
        const user = accessTokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        if (!user) return json(res, 401, { error: 'invalid_token' });
        const honest = { sub: user.sub, email: user.email, email_verified: user.email_verified };
        return json(res, 200, (self.forge.userinfo ?? ((c) => c))(honest));
      }
      return json(res, 404, { error: 'not_found' });
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.issuer = issuer;
  return self;
}
