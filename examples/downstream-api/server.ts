// The example downstream API (issue 13 §3): a plain HTTP calendar for resource B, protected by the kit. The
// notes MCP server calls it with a token it got by token exchange (RFC 8693); a token for the notes server is refused.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createResourceServer, type AccessTokenInfo } from '@portcullis/resource-server';
import { nodeBearerAuth, nodeProtectedResourceMetadata, type NodeRequest } from '@portcullis/resource-server/node';

export interface DownstreamApiOptions {
  /** Port to listen on; 0 picks a free one (tests). */
  port: number;
  /** The authorization server trusted for tokens: Portcullis's ISSUER. */
  issuer: string;
  host?: string;
  /** This API's resource URI, as registered with `resource add` (default http://localhost:PORT/api). */
  resource?: string;
  fetch?: typeof fetch;
}

/** What one authorized call showed this API: who the person is and who acts for them (RFC 8693 `act`). */
export interface DownstreamCall { subject: string | undefined; actor: string | undefined; clientId: string; scopes: string[] }

export interface DownstreamApi {
  /** The resource URI (also the base of its routes: GET <url>/events). */
  url: string;
  /** Every authorized call, oldest first: what tests look at. */
  calls: DownstreamCall[];
  /** Events per person (the `sub` of the token), in memory. */
  events: Map<string, string[]>;
  close(): Promise<void>;
}

/** The scope GET /events needs: register it with `resource add --scope calendar:read=read`. */
export const EVENTS_SCOPE = 'calendar:read';

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
};

const actorOf = (auth: AccessTokenInfo) => {
  const act = auth.claims.act as { sub?: unknown } | undefined;
  return typeof act?.sub === 'string' ? act.sub : undefined;
};

export async function startDownstreamApi(options: DownstreamApiOptions): Promise<DownstreamApi> {
  const calls: DownstreamCall[] = [];
  const events = new Map<string, string[]>();
  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => json(res, 404, { error: 'not_found' });
  const http = createServer((req, res) => {
    handle(req, res).catch(() => { if (!res.headersSent) json(res, 500, { error: 'server_error' }); });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const resource = new URL(options.resource ?? `http://localhost:${port}/api`);
  const kit = createResourceServer({
    resource: resource.href, issuer: options.issuer, scopesSupported: [EVENTS_SCOPE], resourceName: 'Calendar (Portcullis example)',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const serveMetadata = nodeProtectedResourceMetadata(kit);
  // Audience exactly this API and calendar:read: a token the notes server received is refused here (401).
  const requireToken = nodeBearerAuth(kit, { requiredScopes: [EVENTS_SCOPE] });
  const base = resource.pathname.replace(/\/+$/, '');

  handle = async (req: NodeRequest, res) => {
    if (serveMetadata(req, res)) return;
    const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '');
    if (path !== `${base}/events` || req.method !== 'GET') return json(res, 404, { error: 'not_found' });
    let auth: AccessTokenInfo | undefined;
    await requireToken(req, res, () => { auth = req.auth; });
    if (!auth) return;
    const call = { subject: auth.subject, actor: actorOf(auth), clientId: auth.clientId, scopes: auth.scopes };
    calls.push(call);
    json(res, 200, { subject: call.subject, actor: call.actor ?? null, events: events.get(auth.subject ?? '') ?? [] });
  };

  return {
    url: kit.resource, calls, events,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
