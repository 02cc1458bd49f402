// A kit-protected MCP server (MCP SDK v2) with one read tool, for the price of tool-call auditing (issue 14 §6):
// BENCH_RECORD=on wraps the tool with the kit's recordedTool and gives the gate the recorder, which batches the
// records to the stand-in issuer's /resource/tool-calls; =off is the same server without recording. Both check
// the tool's scope, so the two differ by the recording alone. The issuer (BENCH_ISSUER) runs in a process of its
// own (fake-issuer-process.ts), as Portcullis would: taking the records is not the kit's cost.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { createResourceServer, createToolCallRecorder, createToolScopes } from '@portcullis/resource-server';
import { mcpServerAuthGate, recordedTool } from '@portcullis/resource-server/mcp-sdk-v2';
import { serveCommands } from './child-process.ts';

const mode = process.env.BENCH_RECORD;
if (mode !== 'on' && mode !== 'off') throw new Error(`BENCH_RECORD must be on or off, got ${mode}`);

const issuer = { issuer: process.env.BENCH_ISSUER ?? '' };
if (!issuer.issuer) throw new Error('BENCH_ISSUER must name the stand-in issuer (fake-issuer-process.ts)');
const http = createServer();
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const port = (http.address() as AddressInfo).port;
const resource = `http://localhost:${port}/mcp`;

const recorder = mode === 'on'
  ? createToolCallRecorder({ issuer: issuer.issuer, resource, clientId: 'bench-resource', clientSecret: 'bench-secret', onError: (message) => console.error(message) })
  : undefined;
const listNotes = () => ({ content: [{ type: 'text' as const, text: 'You have no notes.' }] });
const mcp = createMcpHandler(() => {
  const server = new McpServer({ name: 'portcullis-bench-recorded', version: '1.0.0' });
  server.registerTool('list_notes', { title: 'List notes', annotations: { readOnlyHint: true } },
    recorder ? recordedTool(recorder, 'list_notes', listNotes) : listNotes);
  return server;
});
const kit = createResourceServer({ resource, issuer: issuer.issuer });
const gate = mcpServerAuthGate(kit, { toolScopes: createToolScopes({ list_notes: ['notes:read'] }), ...(recorder ? { toolCalls: recorder } : {}) });
http.on('request', toNodeHandler({
  fetch: async (request: Request) => {
    const auth = await gate(request);
    return auth instanceof Response ? auth : mcp.fetch(request, { authInfo: auth });
  },
}));

serveCommands({ port, resource }, {
  cpu: () => process.cpuUsage(),
  // Delivers what is still buffered, so every call measured can be accounted for at the issuer.
  flush: () => recorder?.flush(),
}, async () => {
  await recorder?.close();
  await mcp.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});
