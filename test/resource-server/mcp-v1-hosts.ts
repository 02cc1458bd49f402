// A small notes MCP server on the MCP SDK v1 (`@modelcontextprotocol/sdk`: McpServer, stateless Streamable HTTP)
// behind the kit's gates, hosted on express (with express.json() or no body parser) or inside a koa app; its
// tools recorded with recordedTool. And the SDK v1 client calls the tests make, as an MCP client would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import Koa from 'koa';
import { z } from 'zod';
import { createToolScopes, toolScopesMeta, type ResourceServer, type ToolCallRecorder, type ToolPins } from '@portcullis/resource-server';
import { koaBearerAuth, koaProtectedResourceMetadata, koaToolPinGate, type KoaAuthState } from '@portcullis/resource-server/koa';
import { mcpSdkV1BearerAuth, mcpSdkV1ToolPinGate, recordedTool } from '@portcullis/resource-server/mcp-sdk-v1';

export type Host = 'express' | 'express without a body parser' | 'koa';
export const HOSTS: Host[] = ['express', 'express without a body parser', 'koa'];

export interface NotesServer {
  url: string;
  /** What each tool says of itself; change one to play a rug pull (served from the next request on). */
  descriptions: Record<'read_note' | 'add_note' | 'ping', string>;
  /** Tool handlers that actually ran, in order. */
  ran: string[];
  close(): Promise<void>;
}

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** The notes server's McpServer: `registerTool` with input schemas and scopes in `_meta`, and one `server.tool` without a schema. */
function notesMcpServer(server: Pick<NotesServer, 'descriptions' | 'ran'>, recorder?: ToolCallRecorder, pins?: ToolPins): McpServer {
  const mcp = new McpServer({ name: 'notes-sdk-v1', version: '1.0.0' });
  const recorded = <A extends unknown[]>(name: string, handler: (...params: A) => Promise<CallToolResult>) =>
    (recorder ? recordedTool(recorder, name, handler, { pins }) : handler);
  mcp.registerTool('read_note', {
    description: server.descriptions.read_note, inputSchema: { id: z.string() }, annotations: { readOnlyHint: true }, _meta: toolScopesMeta(['notes:read']),
  }, recorded('read_note', async ({ id }: { id: string }) => { server.ran.push('read_note'); return text(`note ${id}: buy milk`); }));
  mcp.registerTool('add_note', {
    description: server.descriptions.add_note, inputSchema: { text: z.string() }, _meta: toolScopesMeta(['notes:write']),
  }, recorded('add_note', async ({ text: note }: { text: string }) => {
    server.ran.push('add_note');
    await new Promise((resolve) => setTimeout(resolve, 25)); // a measurable duration
    return text(`added ${note.length} characters`);
  }));
  // The older form: server.tool(name, description, callback), whose callback gets (extra) only.
  mcp.tool('ping', server.descriptions.ping, recorded('ping', async (_extra: unknown) => { server.ran.push('ping'); return text('pong'); }));
  return mcp;
}

/** The tools the server serves now, exactly as its tools/list answers (for the pins' `servedTools`, and to approve). */
export async function listedTools(server: Pick<NotesServer, 'descriptions'>): Promise<Tool[]> {
  const mcp = notesMcpServer({ descriptions: server.descriptions, ran: [] });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'served-tools', version: '1.0.0' });
  await mcp.connect(serverSide);
  await client.connect(clientSide);
  try {
    return (await client.listTools()).tools;
  } finally {
    await client.close();
    await mcp.close();
  }
}

/** The scopes the gates check per tool (the same as the tools report in `_meta`). */
export const NOTES_TOOL_SCOPES = createToolScopes({ read_note: ['notes:read'], add_note: ['notes:write'] });

export interface NotesServerOptions {
  kit: ResourceServer;
  pins: ToolPins;
  recorder: ToolCallRecorder;
  /** false: the bearer gate checks no per-tool scopes (and so reads no body): the pin gate is first to need it. */
  toolScopes?: boolean;
  /** The port to listen on (a resource registered at Portcullis before its server starts); default any free one. */
  port?: number;
}

/** A fresh McpServer and stateless transport per POST, as the SDK's stateless examples do; answers it on node `req`/`res`. */
async function serveMcp(server: Pick<NotesServer, 'descriptions' | 'ran'>, options: NotesServerOptions, req: Parameters<StreamableHTTPServerTransport['handleRequest']>[0], res: Parameters<StreamableHTTPServerTransport['handleRequest']>[1], body: unknown) {
  const mcp = notesMcpServer(server, options.recorder, options.pins);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => { void transport.close(); void mcp.close(); });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, body);
}

export async function startNotesServer(host: Host, options: NotesServerOptions): Promise<NotesServer> {
  const state = { descriptions: { read_note: 'Reads one of your notes.', add_note: 'Adds a note.', ping: 'Answers pong.' }, ran: [] as string[] };
  const gates = options.toolScopes === false ? {} : { toolScopes: NOTES_TOOL_SCOPES, toolCalls: options.recorder };
  let http: Server;
  if (host === 'koa') {
    const app = new Koa<KoaAuthState>();
    app.silent = true;
    app.use(koaProtectedResourceMetadata(options.kit));
    app.use(async (ctx, next) => {
      // Stateless: no standalone SSE stream, no session to delete.
      if (ctx.method !== 'POST') {
        ctx.status = 405;
        return;
      }
      await next();
    });
    app.use(koaBearerAuth(options.kit, gates));
    app.use(koaToolPinGate(options.pins, { toolCalls: options.recorder }));
    app.use(async (ctx) => {
      // The SDK's node transport answers on the raw response; it reads the token from ctx.req.auth.
      ctx.respond = false;
      await serveMcp(state, options, ctx.req, ctx.res, (ctx.request as typeof ctx.request & { body?: unknown }).body);
    });
    http = createServer(app.callback());
  } else {
    const app = express();
    const parsers = host === 'express' ? [express.json()] : [];
    app.post('/mcp', ...parsers, mcpSdkV1BearerAuth(options.kit, gates), mcpSdkV1ToolPinGate(options.pins, { toolCalls: options.recorder }),
      (req, res) => void serveMcp(state, options, req, res, req.body));
    app.all('/mcp', (_req, res) => void res.status(405).end());
    http = createServer(app);
  }
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(http.address() as AddressInfo).port}/mcp`, ...state,
    close: () => new Promise<void>((resolve) => { http.closeAllConnections(); http.close(() => resolve()); }),
  };
}

/** An SDK v1 client connected with `token`; closed after `use`. */
export async function withClient<T>(url: string, token: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'kit-test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** One tools/call by a real SDK v1 client: its result, or what it threw (an McpError for a JSON-RPC error). */
export const callTool = (url: string, token: string, name: string, args?: Record<string, unknown>) =>
  withClient(url, token, (client) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>).catch((error: unknown) => error);
