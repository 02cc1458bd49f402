// A kit-protected MCP server (MCP SDK v2) with one read tool, for the price of tool-call auditing (issue 14 §6):
// BENCH_RECORD=on wraps the tool with the kit's recordedTool and gives the gate the recorder, which batches the
// records to the stand-in issuer's /resource/tool-calls; =off is the same server without recording. Both check
// the tool's scope, so the two differ by the recording alone. =none is the same server with no kit at all (no
// token checked, nothing recorded): issue 17's yardstick for the kit with auditing on. The issuer (BENCH_ISSUER) runs in a process of its
// own (fake-issuer-process.ts), as Portcullis would: taking the records is not the kit's cost.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { createResourceServer, createToolCallRecorder, createToolScopes } from '@portcullis/resource-server';
import { protectMcpHandler, recordedTool } from '@portcullis/resource-server/mcp-sdk-v2';
import { serveCommands } from './child-process.ts';

const mode = process.env.BENCH_RECORD;
if (mode !== 'on' && mode !== 'off' && mode !== 'none') throw new Error(`BENCH_RECORD must be on, off or none, got ${mode}`);

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
// The kit as its README shows it for SDK v2: the gate, the scopes and the SDK handler in one fetch.
const protectedMcp = protectMcpHandler(kit, mcp, { toolScopes: createToolScopes({ list_notes: ['notes:read'] }), ...(recorder ? { toolCalls: recorder } : {}) });
http.on('request', toNodeHandler({ fetch: mode === 'none' ? (request: Request) => mcp.fetch(request) : protectedMcp }));

serveCommands({ port, resource }, {
  cpu: () => process.cpuUsage(),
  // Delivers what is still buffered, so every call measured can be accounted for at the issuer.
  flush: () => recorder?.flush(),
}, async () => {
  await recorder?.close();
  await mcp.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});
