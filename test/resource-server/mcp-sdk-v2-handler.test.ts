// protectMcpHandler: the kit and a real MCP SDK v2 handler (createMcpHandler) as one fetch, against the loopback
// authorization server (fake-as.ts): the tool runs with the verified token, and every refusal of the separate
// gates is there, answered and recorded alike: no token, a tool short of its scope, a tool the pins refuse, a body
// too large (before it is buffered), a body that is not JSON (the SDK's own answer, only once the token is good).
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResourceServer, createToolCallRecorder, createToolPins, createToolScopes, toolDefinitionOf, toolDigest, TOOL_REFUSED_ERROR_CODE, type ToolCallRecorder } from '@portcullis/resource-server';
import { mcpServerAuthGate, mcpServerToolPinGate, protectMcpHandler, recordedTool } from '@portcullis/resource-server/mcp-sdk-v2';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

let as: FakeAs;
let recorder: ToolCallRecorder;
const ran: { tool: string; clientId: string | undefined }[] = [];
beforeEach(async () => {
  as = await startFakeAs();
  recorder = createToolCallRecorder({ issuer: as.issuer, clientId: 'rs', clientSecret: 's3cret', resource: RESOURCE, flushIntervalMs: 3_600_000, onError: () => {} });
  ran.length = 0;
});
afterEach(async () => {
  await recorder.close();
  await as.close();
});

const tools = [
  { name: 'list_notes', description: 'Lists the notes.', annotations: { readOnlyHint: true } },
  { name: 'delete_note', description: 'Deletes a note.', annotations: { destructiveHint: true } },
];

function serve(options: { pins?: boolean; maxBodyBytes?: number } = {}) {
  const mcp = createMcpHandler(() => {
    const server = new McpServer({ name: 'notes', version: '1.0.0' });
    for (const tool of tools) {
      server.registerTool(tool.name, { description: tool.description, annotations: tool.annotations }, recordedTool(recorder, tool.name, (ctx: { http?: { authInfo?: { clientId: string } } }) => {
        ran.push({ tool: tool.name, clientId: ctx.http?.authInfo?.clientId });
        return { content: [{ type: 'text' as const, text: `${tool.name} ran` }] };
      }));
    }
    return server;
  });
  const pins = options.pins ? createToolPins({ issuer: as.issuer, clientId: 'rs', clientSecret: 's3cret', servedTools: () => tools, cacheSeconds: 0, onWarning: () => {} }) : undefined;
  return protectMcpHandler(createResourceServer({ resource: RESOURCE, issuer: as.issuer }), mcp, {
    toolScopes: createToolScopes({ list_notes: ['notes:read'], delete_note: ['notes:delete'] }), toolCalls: recorder,
    ...(pins ? { pins } : {}), ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
}

const call = (name: string, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const post = (body: string, token?: string) => new Request(RESOURCE, {
  method: 'POST', body,
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...(token ? { authorization: `Bearer ${token}` } : {}) },
});
async function recorded() {
  await recorder.flush();
  return as.toolCallRecords().map((r) => [r.tool, r.decision, r.client_id]);
}

describe('protectMcpHandler (MCP SDK v2)', () => {
  it('runs the tool with the verified token, the body read once and handed to the SDK parsed, and records the call', async () => {
    const answer = await serve()(post(JSON.stringify(call('list_notes')), await as.sign({ scope: 'notes:read' })));
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('list_notes ran');
    expect(ran).toEqual([{ tool: 'list_notes', clientId: 'client-1' }]);
    expect(await recorded()).toEqual([['list_notes', 'allowed', 'client-1']]);
  });

  it('answers a request without a token 401 with the kit\'s challenge; nothing runs', async () => {
    const answer = await serve()(post(JSON.stringify(call('list_notes'))));
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"/);
    expect(ran).toEqual([]);
  });

  it('refuses a tool short of its scope 403 insufficient_scope with the step-up scopes, recorded as such', async () => {
    const answer = await serve()(post(JSON.stringify(call('delete_note')), await as.sign({ scope: 'notes:read' })));
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="notes:read notes:delete"/);
    expect(ran).toEqual([]);
    expect(await recorded()).toEqual([['delete_note', 'insufficient_scope', 'client-1']]);
  });

  it('with pins, refuses a tool the operator has not approved with its JSON-RPC error, recorded refused_by_pin', async () => {
    as.tools.catalog = { drift: 'block', scopes: {}, tools: [{ name: 'list_notes', digest: toolDigest(toolDefinitionOf(tools[0])!) }] };
    const handler = serve({ pins: true });
    const token = await as.sign({ scope: 'notes:read notes:delete' });
    const refused = await handler(post(JSON.stringify(call('delete_note', 7)), token));
    expect(refused.status).toBe(200);
    expect(await refused.json()).toMatchObject({ id: 7, error: { code: TOOL_REFUSED_ERROR_CODE, data: { reason: 'tool_not_approved', tool: 'delete_note' } } });
    const allowed = await handler(post(JSON.stringify(call('list_notes', 8)), token));
    expect(await allowed.text()).toContain('list_notes ran');
    expect(ran.map((r) => r.tool)).toEqual(['list_notes']);
    expect(await recorded()).toEqual([['delete_note', 'refused_by_pin', 'client-1'], ['list_notes', 'allowed', 'client-1']]);
  });

  it('answers a body over maxBodyBytes 413 as it streams in, declared or not, before the token is even looked at', async () => {
    const handler = serve({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ ...call('list_notes'), pad: 'x'.repeat(4096) });
    const declared = await handler(post(big, await as.sign()));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: -32700, message: 'request body too large' } });
    // Streamed without a length: refused once the bound is passed, not after the whole body.
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new TextEncoder().encode('x'.repeat(512)));
      },
    });
    const streamed = await handler(new Request(RESOURCE, { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit));
    expect(streamed.status).toBe(413);
    expect(pulled).toBeLessThan(10);
    expect(ran).toEqual([]);
  });

  it('hands a body that is not JSON to the SDK for its own parse error, but only once the token checked out', async () => {
    const handler = serve();
    expect((await handler(post('{not json'))).status).toBe(401);
    const answer = await handler(post('{not json', await as.sign()));
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: { code: -32700 } });
    expect(ran).toEqual([]);
  });

  it('the separate gates read their clone bounded too: a body past 4 MiB is answered 413, not buffered whole', async () => {
    const endless = () => {
      const pulls = { count: 0 };
      const body = new ReadableStream<Uint8Array>({ pull(controller) { pulls.count += 1; controller.enqueue(new Uint8Array(64 * 1024)); } });
      return { pulls, request: new Request(RESOURCE, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/json', authorization: 'Bearer x' } } as RequestInit) };
    };
    const kit = createResourceServer({ resource: RESOURCE, issuer: as.issuer });
    const gated = endless();
    const answer = await mcpServerAuthGate(kit, { toolScopes: createToolScopes({ list_notes: ['notes:read'] }) })(gated.request);
    expect((answer as Response).status).toBe(413);
    expect(gated.pulls.count).toBeLessThan(80); // 4 MiB is 64 chunks of 64 KiB: it stopped there
    const pins = createToolPins({ issuer: as.issuer, clientId: 'rs', clientSecret: 's3cret', servedTools: () => tools, cacheSeconds: 0, onWarning: () => {} });
    const pinned = endless();
    const refused = await mcpServerToolPinGate(pins)(pinned.request, { token: 't', clientId: 'client-1', scopes: [] });
    expect(refused?.status).toBe(413);
    expect(pinned.pulls.count).toBeLessThan(80);
  });
});
