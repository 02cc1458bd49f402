// A loopback stand-in for GitHub's OAuth app endpoints and the two REST calls sign-in makes (GET /user,
// GET /user/emails), as docs.github.com describes them: the authorize page signs in the person the test chose,
// the token endpoint checks the client secret, the code and PKCE (S256), the API the bearer token.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHubUser { id: number; login: string; name?: string; emails: Array<{ email: string; primary: boolean; verified: boolean }> }

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startGitHubStandIn(options: { clientId: string; clientSecret: string }) {
  const codes = new Map<string, { user: GitHubUser; challenge: string | null; redirectUri: string }>();
  const tokens = new Map<string, GitHubUser>();
  const seen: string[] = [];
  let signedIn: GitHubUser | undefined;
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://github.invalid');
      seen.push(`${req.method} ${url.pathname}`);
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
        if (url.searchParams.get('client_id') !== options.clientId || !signedIn) return json(res, 400, { error: 'bad client or nobody signed in' });
        const code = randomBytes(10).toString('hex');
        const redirectUri = url.searchParams.get('redirect_uri')!;
        codes.set(code, { user: signedIn, challenge: url.searchParams.get('code_challenge'), redirectUri });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.statusCode = 302;
        res.setHeader('location', back.href);
        return res.end();
      }
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
        const form = await formBody(req);
        // GitHub answers token errors with 200 and an `error` member when JSON is asked for.
        if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) return json(res, 200, { error: 'incorrect_client_credentials' });
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        if (!grant || grant.redirectUri !== form.get('redirect_uri')) return json(res, 200, { error: 'bad_verification_code' });
        const verifier = form.get('code_verifier') ?? '';
        if (grant.challenge !== createHash('sha256').update(verifier).digest('base64url')) return json(res, 200, { error: 'bad_verification_code' });
        const token = `gho_${randomBytes(16).toString('hex')}`;
        tokens.set(token, grant.user);
        return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      }
      const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /i, ''));
      if (!user) return json(res, 401, { message: 'Bad credentials' });
      if (url.pathname === '/user') return json(res, 200, { id: user.id, login: user.login, name: user.name ?? null, email: null, site_admin: false });
      if (url.pathname === '/user/emails') return json(res, 200, user.emails.map((e) => ({ ...e, visibility: null })));
      return json(res, 404, { message: 'Not Found' });
    })().catch((error: unknown) => json(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    /** Requests seen, `METHOD /path`. */
    seen,
    /** Who the authorize page signs in next. */
    signIn(user: GitHubUser) { signedIn = user; },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
