// A local https server that plays the client's website: serves metadata documents (or misbehaves:
// redirects, stalls, oversize, wrong type) on 127.0.0.1, with the self-signed test certificate.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
/** The test certificate (CN/SAN localhost, 127.0.0.1, ::1): give it to the server as CIMD_CA_FILE. */
export const TEST_CA_FILE = fixture('localhost-cert.pem');

/**
 * The environment for a test app that may fetch documents from this server. Every test fetch is one
 * address (127.0.0.1) asking one host (127.0.0.1): that pair gets the whole per-address budget (30), not
 * the production share of a host (CIMD_FETCH_MAX_PER_HOST_PER_IP, 10); test/rate-limit/shared-budgets.test.ts tests the share.
 */
export const CIMD_DEV_ENV = { CIMD_ALLOW_LOOPBACK: 'true', CIMD_CA_FILE: TEST_CA_FILE, CIMD_FETCH_MAX_PER_HOST_PER_IP: '30' };

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface DocumentServer {
  origin: string;
  /** Absolute URL of a path on this server, e.g. url('/client.json'). */
  url(path: string): string;
  /** Serves `document` as JSON at `path` (with optional extra headers). */
  serveJson(path: string, document: unknown, headers?: Record<string, string>): void;
  route(path: string, handler: Route): void;
  /** How many requests each path has received. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startDocumentServer(): Promise<DocumentServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const server: Server = createServer({ key: readFileSync(fixture('localhost-key.pem')), cert: readFileSync(TEST_CA_FILE) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const origin = `https://127.0.0.1:${port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    hits,
    serveJson(path, document, headers = {}) {
      routes.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(document)));
    },
    route: (path, handler) => routes.set(path, handler),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A valid document for the client_id `url`, redirecting to `redirectUri`. */
export const clientDocument = (url: string, redirectUri: string, extra: Record<string, unknown> = {}) => ({
  client_id: url,
  client_name: 'Example MCP Client',
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  ...extra,
});
