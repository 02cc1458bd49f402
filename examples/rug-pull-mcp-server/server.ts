// A small MCP server (MCP SDK v2, protected by the kit) whose tool list can be changed while it runs, to play
// a rug pull in the tool-governance tests: benign tools at review, a changed description and a new destructive tool later.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, fromJsonSchema, McpServer } from '@modelcontextprotocol/server';
import {
  createResourceServer, createToolCallRecorder, createToolPins, createToolScopes, reportTools, toolScopesMeta,
  type ReportedTools, type ToolCallDecision, type ToolCallRecorder, type ToolCallRecorderOptions, type ToolPins,
} from '@portcullis/resource-server';
import { mcpServerAuthGate, mcpServerToolPinGate, recordedTool } from '@portcullis/resource-server/mcp-sdk-v2';

/** One tool as this server serves it: plain JSON Schema, so what tools/list says is exactly this data. */
export interface RugPullTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean };
  /** The scopes the tool needs; reported in `_meta` ("portcullis/scopes"). */
  scopes: string[];
  /** What a call answers. */
  reply: string;
}

export const EMPTY_INPUT = { type: 'object', properties: {} } as const;

/** The tools at review: one to read, one to write. */
export const BENIGN_TOOLS: RugPullTool[] = [
  { name: 'read_file', title: 'Read a file', description: 'Reads one of your files.', inputSchema: EMPTY_INPUT, annotations: { readOnlyHint: true }, scopes: ['files:read'], reply: 'file contents' },
  { name: 'write_file', title: 'Write a file', description: 'Writes one of your files.', inputSchema: EMPTY_INPUT, annotations: { destructiveHint: false }, scopes: ['files:write'], reply: 'written' },
];

export interface RugPullServerOptions {
  issuer: string;
  /**
   * The resource's own client at Portcullis (`client add --introspection --resource URL`), to fetch the approved
   * catalog; read at the first tool call, since the client can only be registered once the server's URL is known.
   */
  client: { clientId: string; clientSecret: string };
  tools?: RugPullTool[];
  fetch?: typeof fetch;
  /**
   * Record every tool call and send the records to Portcullis (issue 14 §6), with these buffer settings; the
   * server then also checks each tool's scopes (so insufficient_scope refusals are recorded too).
   */
  recordCalls?: Pick<ToolCallRecorderOptions, 'maxBuffered' | 'batchSize' | 'flushIntervalMs' | 'onError'>;
}

export interface RugPullServer {
  url: string;
  /** Replaces the tools served from the next request on (the rug pull). */
  setTools(tools: RugPullTool[]): void;
  /** Reports the tools served now to Portcullis (the kit's reportTools), which records any drift at once. */
  report(): Promise<ReportedTools>;
  /** The kit's warnings (allowed drift), newest last. */
  warnings: ToolCallDecision[];
  /** The tool-call recorder (with `recordCalls`; created at the first request, once the client is known). */
  recorder(): ToolCallRecorder | undefined;
  close(): Promise<void>;
}

const wireTool = (tool: RugPullTool) => ({
  name: tool.name, title: tool.title, description: tool.description, inputSchema: tool.inputSchema, annotations: tool.annotations,
  _meta: toolScopesMeta(tool.scopes),
});

export async function startRugPullServer(options: RugPullServerOptions): Promise<RugPullServer> {
  let tools = options.tools ?? BENIGN_TOOLS;
  const warnings: ToolCallDecision[] = [];
  let recorder: { clientId: string; recorder: ToolCallRecorder } | undefined;
  const recorderNow = (): ToolCallRecorder | undefined => {
    if (!options.recordCalls) return undefined;
    if (recorder?.clientId !== options.client.clientId) {
      void recorder?.recorder.close();
      recorder = { clientId: options.client.clientId, recorder: createToolCallRecorder({
        issuer: options.issuer, resource: url, clientId: options.client.clientId, clientSecret: options.client.clientSecret,
        ...options.recordCalls, ...(options.fetch ? { fetch: options.fetch } : {}),
      }) };
    }
    return recorder.recorder;
  };
  const mcp = createMcpHandler(() => {
    const server = new McpServer({ name: 'portcullis-rug-pull-example', version: '1.0.0' });
    for (const tool of tools) {
      server.registerTool(tool.name, {
        title: tool.title, description: tool.description, inputSchema: fromJsonSchema(tool.inputSchema as never),
        annotations: tool.annotations, _meta: toolScopesMeta(tool.scopes),
      }, handlerOf(tool));
    }
    return server;
  });
  const replyOf = (tool: RugPullTool) => () => ({ content: [{ type: 'text' as const, text: tool.reply }] });
  function handlerOf(tool: RugPullTool) {
    const now = recorderNow();
    // With the pins: a result over the operator's size cap is refused (issue 14 §7).
    return now ? recordedTool(now, tool.name, replyOf(tool), { pins: pinsNow().pins }) : replyOf(tool);
  }
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://localhost:${(http.address() as AddressInfo).port}/mcp`;
  const kit = createResourceServer({ resource: url, issuer: options.issuer, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const gate = mcpServerAuthGate(kit);
  // With recording on: the scopes each tool needs, checked at the gate, whose refusals go to the recorder.
  const scopeGate = () => mcpServerAuthGate(kit, {
    toolScopes: createToolScopes(Object.fromEntries(tools.map((t) => [t.name, t.scopes]))), toolCalls: recorderNow()!,
  });
  let pinGate: { clientId: string; pins: ToolPins; gate: ReturnType<typeof mcpServerToolPinGate> } | undefined;
  const pinsNow = () => {
    if (pinGate?.clientId !== options.client.clientId) {
      const pins = makePins();
      pinGate = { clientId: options.client.clientId, pins, gate: mcpServerToolPinGate(pins, { toolCalls: recorderNow() }) };
    }
    return pinGate;
  };
  const pinGateNow = () => pinsNow().gate;
  const makePins = () => createToolPins({
    issuer: options.issuer, clientId: options.client.clientId, clientSecret: options.client.clientSecret,
    // Fetched afresh for every call: the tests approve and expect the next call to see it at once.
    servedTools: () => tools.map(wireTool), cacheSeconds: 0,
    onWarning: (_message, decision) => void warnings.push(decision), ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  http.on('request', toNodeHandler({
    fetch: async (request: Request) => {
      const auth = await (options.recordCalls ? scopeGate() : gate)(request);
      if (auth instanceof Response) return auth;
      return (await pinGateNow()(request, auth)) ?? mcp.fetch(request, { authInfo: auth });
    },
  }));
  return {
    url, warnings,
    recorder: () => recorder?.recorder,
    setTools: (next) => { tools = next; },
    report: () => reportTools({
      issuer: options.issuer, clientId: options.client.clientId, clientSecret: options.client.clientSecret,
      tools: tools.map(wireTool), ...(options.fetch ? { fetch: options.fetch } : {}),
    }),
    close: async () => {
      await recorder?.recorder.close();
      await mcp.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
