// The MCP client's side of a browser test, over plain HTTP: register (RFC 7591), build a PKCE
// authorize URL with `resource`, receive the redirect on a loopback callback server, redeem and refresh.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { z } from 'zod';

/** A loopback redirect_uri that really listens (RFC 8252 §7.3): it records what the browser brings back. */
export interface CallbackServer {
  redirectUri: string;
  /** Every query the browser delivered, in order. */
  received: URLSearchParams[];
  /** Resolves with the next delivery (call it before the click that causes the redirect); rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const received: URLSearchParams[] = [];
  let waiting: ((query: URLSearchParams) => void)[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    received.push(url.searchParams);
    const resolvers = waiting;
    waiting = [];
    for (const resolve of resolvers) resolve(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>Client</title><h1>Back at the client</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    received,
    next: (timeoutMs = 15_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the browser did not come back to ${port}/callback within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((query) => {
        clearTimeout(timer);
        resolve(query);
      });
    }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const tokenResponse = z.object({
  access_token: z.string(), token_type: z.string(), refresh_token: z.string().optional(), scope: z.string().optional(),
  id_token: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponse>;

/** One registered public client (what an MCP client does on first contact with the server). */
export class McpClient {
  private constructor(readonly issuer: string, readonly clientId: string, readonly redirectUri: string) {}

  static async register(issuer: string, redirectUri: string, clientName = 'Browser Test Client'): Promise<McpClient> {
    const response = await fetch(`${issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: clientName, redirect_uris: [redirectUri], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      }),
    });
    const body: unknown = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(201);
    return new McpClient(issuer, z.object({ client_id: z.string() }).parse(body).client_id, redirectUri);
  }

  /** A fresh authorization request: the URL to open in the browser, and the state and verifier to keep. */
  authorization(resource: string, scope: string) {
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(12).toString('base64url');
    const params = new URLSearchParams({
      response_type: 'code', client_id: this.clientId, redirect_uri: this.redirectUri, scope, resource, state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    });
    return { url: `${this.issuer}/auth?${params}`, state, verifier, resource };
  }

  /** Redeems the code the callback received; fails the test unless the token endpoint says 200. */
  async redeem(callback: URLSearchParams, request: { state: string; verifier: string; resource: string }): Promise<TokenResponse> {
    expect(callback.get('state')).toBe(request.state);
    expect(callback.get('iss')).toBe(this.issuer); // RFC 9207
    const code = callback.get('code');
    expect(code, `callback without a code: ${callback}`).toEqual(expect.any(String));
    const response = await this.token({
      grant_type: 'authorization_code', code: code!, code_verifier: request.verifier,
      redirect_uri: this.redirectUri, resource: request.resource,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return tokenResponse.parse(response.body);
  }

  refresh(refreshToken: string) {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  private async token(params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: this.clientId, ...params }),
    });
    return { status: response.status, body: z.record(z.string(), z.unknown()).parse(await response.json()) };
  }
}
