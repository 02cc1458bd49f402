// The example MCP server's HTTP side: DNS-rebinding guards, RFC 9728 metadata, bearer tokens checked by
// the resource-server kit with a scope per tool, tool governance when given the resource's credential,
// then MCP over Streamable HTTP (MCP TypeScript SDK v2).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostHeaderValidation, originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type AuthInfo } from '@modelcontextprotocol/server';
import { createResourceServer, createToolScopes, exchangeToken, TokenExchangeError, type IntrospectionOptions } from '@portcullis/resource-server';
import { nodeBearerAuth, nodeProtectedResourceMetadata, type NodeRequest } from '@portcullis/resource-server/node';
import { createNotesGovernance, type NotesGovernance, type NotesGovernanceOptions } from './governance.ts';
import { BASELINE_SCOPES, createNotesMcpServer, NotesStore, SINGLE_USE_SCOPES, TOOL_SCOPES, type ListEvents } from './notes.ts';

export interface NotesServerOptions {
  /** Port to listen on; 0 picks a free one (tests). */
  port: number;
  /** The authorization server trusted for tokens: Portcullis's ISSUER. */
  issuer: string;
  /** Interface to bind (default 127.0.0.1: an example has no business listening on the network). */
  host?: string;
  /** This server's resource URI, as registered with `resource add` (default http://localhost:PORT/mcp). */
  resource?: string;
  /** Check opaque tokens at Portcullis's introspection endpoint instead of verifying JWTs. */
  introspection?: IntrospectionOptions;
  /** `required`: accept only DPoP-bound tokens (register the resource with `--dpop required` too). Default `allowed`. */
  dpop?: 'allowed' | 'required';
  /**
   * A downstream API to call for the person (list_events): its resource URI and this server's own client
   * (`client add --introspection --resource <this server>`), which exchanges the received token (RFC 8693).
   */
  downstream?: { resource: string; clientId: string; clientSecret: string };
  /**
   * Tool governance (README "Tool governance"), with the resource's one credential: its introspection client
   * (`client add --introspection --resource <this server>`). tools/call of a write or irreversible tool an
   * operator has not approved, or that drifted, is refused (JSON-RPC -32003), budgets apply (-32004), and every
   * call is recorded and sent to Portcullis. Without it governance is off: nothing is pinned, budgeted or recorded.
   */
  governance?: NotesGovernanceOptions;
  /** How to reach the authorization server (default: the global fetch); tests route the issuer in process. */
  fetch?: typeof fetch;
  /**
   * No token checks at all (and so no governance). Only for the benchmark's baseline (what the kit costs is
   * measured against it); main.ts never sets it.
   */
  unprotected?: boolean;
}

export interface NotesServer {
  /** The MCP endpoint, e.g. http://localhost:3001/mcp. */
  url: string;
  resourceMetadataUrl: string;
  port: number;
  store: NotesStore;
  /** The pins and the tool-call recorder, with `governance` (tests flush the recorder). */
  governance: Pick<NotesGovernance, 'pins' | 'recorder'> | undefined;
  /** Stops listening and delivers the tool-call records still buffered. */
  close(): Promise<void>;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

// DNS rebinding (MCP Security Best Practices; Streamable HTTP §Security Warning): a web page whose
// host name was re-pointed at 127.0.0.1 reaches this server with its own Host and Origin. Only our own
// host names pass; a local server answers to each loopback spelling, as the SDK's localhost guard does.
function allowedHostnames(resource: URL): string[] {
  return LOOPBACK.includes(resource.hostname) ? LOOPBACK : [resource.hostname];
}

function subjectOf(auth: AuthInfo | undefined): string {
  const subject = auth?.extra?.subject;
  if (typeof subject === 'string' && subject !== '') return subject;
  return auth ? `client:${auth.clientId}` : 'anonymous';
}

/** The body as JSON for the unprotected (benchmark) mode; undefined lets the MCP handler answer bad input. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 4 * 1024 * 1024) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const notFound = (res: ServerResponse) => {
  res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'not_found' }));
};

/**
 * list_events' downstream call: never the received token itself (MCP forbids token passthrough), but one
 * exchanged for the calendar API's audience, with `act` naming this server (kit: exchangeToken).
 */
function listEventsWith(options: NotesServerOptions, receivedToken: string): ListEvents {
  const downstream = options.downstream!;
  return async () => {
    let token: string;
    try {
      ({ accessToken: token } = await exchangeToken({
        issuer: options.issuer, clientId: downstream.clientId, clientSecret: downstream.clientSecret,
        subjectToken: receivedToken, resource: downstream.resource, ...(options.fetch ? { fetch: options.fetch } : {}),
      }));
    } catch (error) {
      if (error instanceof TokenExchangeError) return { ok: false, error: `token exchange refused (${error.code})` };
      throw error;
    }
    const response = await fetch(`${downstream.resource.replace(/\/+$/, '')}/events`, { headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 200) return { ok: false, error: `HTTP ${response.status}` };
    const body = await response.json() as { events: string[]; actor: string | null };
    return { ok: true, events: body.events, actor: body.actor };
  };
}

export async function startNotesServer(options: NotesServerOptions): Promise<NotesServer> {
  const store = new NotesStore();
  // Set once listening (it needs the resource URI); requests before then are answered 404.
  let governance: NotesGovernance | undefined;
  const mcp = toNodeHandler(createMcpHandler(({ authInfo }) => createNotesMcpServer(store, subjectOf(authInfo), {
    ...(options.downstream && authInfo ? { listEvents: listEventsWith(options, authInfo.token) } : {}),
    ...(governance ? { wrapTool: governance.wrapTool } : {}),
  })));
  // The request handler needs the resource URI, which needs the port: it is filled in once listening.
  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => notFound(res);
  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const resource = new URL(options.resource ?? `http://localhost:${port}/mcp`);

  const kit = createResourceServer({
    resource: resource.href,
    issuer: options.issuer,
    scopesSupported: BASELINE_SCOPES,
    resourceName: 'Notes (Portcullis example)',
    ...(options.introspection ? { introspection: options.introspection } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.dpop ? { dpop: options.dpop } : {}),
  });
  if (options.governance && !options.unprotected) {
    governance = createNotesGovernance({
      ...options.governance, issuer: options.issuer, resource: kit.resource, fetch: options.fetch,
      // The tools this process serves: list_events only with a downstream API (never called from here).
      toolsServer: () => createNotesMcpServer(new NotesStore(), '', options.downstream ? { listEvents: async () => ({ ok: false, error: 'not called' }) } : {}),
    });
  }
  const validateHost = hostHeaderValidation(allowedHostnames(resource));
  const validateOrigin = originValidation(allowedHostnames(resource));
  const serveMetadata = nodeProtectedResourceMetadata(kit);
  const requireToken = nodeBearerAuth(kit, {
    toolScopes: createToolScopes(TOOL_SCOPES, { singleUseScopes: SINGLE_USE_SCOPES }),
    // With governance, the calls refused for a missing scope are recorded too.
    ...(governance ? { toolCalls: governance.recorder } : {}),
  });
  const mcpPath = resource.pathname.replace(/\/+$/, '') || '/';

  handle = async (req: NodeRequest, res) => {
    if (!validateHost(req, res) || !validateOrigin(req, res)) return;
    if (serveMetadata(req, res)) return;
    const path = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '') || '/';
    if (path !== mcpPath) return notFound(res);
    // Parsed here as the kit parses it, so the benchmark's baseline differs from the real thing by auth alone.
    if (options.unprotected) return mcp(req, res, req.method === 'POST' ? await readJson(req) : undefined);
    let verified = false;
    await requireToken(req, res, () => { verified = true; });
    // The kit has answered with a challenge when the token fell short; otherwise req.auth is set.
    if (!verified) return;
    // The pin gate (after the token and scopes): refuses unapproved or drifted write tools, and calls over a budget.
    if (governance && await governance.pinGate(req, res)) return;
    await mcp(req, res, req.body);
  };

  return {
    url: kit.resource,
    resourceMetadataUrl: kit.resourceMetadataUrl,
    port,
    store,
    governance: governance && { pins: governance.pins, recorder: governance.recorder },
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await governance?.close();
    },
  };
}
