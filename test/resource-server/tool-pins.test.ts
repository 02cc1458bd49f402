// The kit's pin check on its own (issue 14 §3): the authorization server's answer is the only thing played
// (outbound HTTP), the digests and decisions are the kit's. Unreachable, cached, batch, inventory token.
import { describe, expect, it } from 'vitest';
import { createToolPins, INVENTORY_CLIENT_ID, TOOL_BUDGET_ERROR_CODE, toolDefinitionOf, toolDigest, toolPinRefusal, toolScopesMeta } from '@portcullis/resource-server';
import { mcpServerToolPinGate, TOOL_REFUSED_ERROR_CODE } from '@portcullis/resource-server/mcp-sdk-v2';
import { nodeToolPinGate, type NodeRequest } from '@portcullis/resource-server/node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const served = [
  { name: 'read', description: 'Reads.', inputSchema: { type: 'object' }, _meta: toolScopesMeta(['r']) },
  { name: 'write', description: 'Writes.', inputSchema: { type: 'object' }, _meta: toolScopesMeta(['w']) },
];
const approvedDigest = (tool: unknown) => toolDigest(toolDefinitionOf(tool)!);

function catalogServer(answer: () => Response | Promise<Response>) {
  const calls: string[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(`${String(input)} ${new Headers(init?.headers).get('authorization')}`);
    return answer();
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}
const catalog = (tools: unknown[], drift = 'block') => Response.json({ drift, scopes: { r: 'read', w: 'write' }, tools: tools.map((t) => ({ name: (t as { name: string }).name, digest: approvedDigest(t) })) });
const pinsWith = (fetch: typeof globalThis.fetch, warnings: string[] = [], cacheSeconds = 0) => createToolPins({
  issuer: 'https://as.example', clientId: 'rs', clientSecret: 's3cret', servedTools: () => served, fetch, cacheSeconds,
  onWarning: (message) => void warnings.push(message),
});

describe('tool pins', () => {
  it('authenticates with the resource credential and lets approved tools through', async () => {
    const as = catalogServer(() => catalog(served));
    const pins = pinsWith(as.fetch);
    expect(await pins.decide('write', 'client')).toMatchObject({ allowed: true, status: 'approved', risk: 'write' });
    expect(as.calls[0]).toBe(`https://as.example/resource/tools Basic ${btoa('rs:s3cret')}`);
  });

  it('refuses a changed write tool, warns on a changed read tool', async () => {
    const warnings: string[] = [];
    const pins = pinsWith(catalogServer(() => catalog(served.map((t) => ({ ...t, description: 'Before.' })))).fetch, warnings);
    expect(await pins.decide('write', 'client')).toMatchObject({ allowed: false, status: 'changed', risk: 'write' });
    expect(await pins.decide('read', 'client')).toMatchObject({ allowed: true, status: 'changed', risk: 'read' });
    expect(warnings).toEqual(['portcullis: the tool "read" differs from the definition an operator approved; allowed (read tool)']);
  });

  it('with the authorization server unreachable and nothing cached, refuses every tool as unverified; keeps a cached catalog', async () => {
    const down = pinsWith(catalogServer(() => { throw new TypeError('fetch failed'); }).fetch);
    expect(await down.decide('write', 'client')).toMatchObject({ allowed: false, status: 'unverified' });
    // Without the catalog no scope's class is known: even a tool that reads is judged as a write.
    expect(await down.decide('read', 'client')).toMatchObject({ allowed: false, status: 'unverified', risk: 'write' });
    let up = true;
    const flaky = pinsWith(catalogServer(() => { if (up) return catalog(served); throw new TypeError('fetch failed'); }).fetch);
    expect((await flaky.decide('write', 'client')).allowed).toBe(true);
    up = false;
    expect(await flaky.decide('write', 'client')).toMatchObject({ allowed: true, status: 'approved' });
  });

  it('refuses every call of the inventory token, and a whole batch with one refused call, as JSON-RPC errors', async () => {
    const gate = mcpServerToolPinGate(pinsWith(catalogServer(() => catalog([served[0]!])).fetch));
    const post = (body: unknown) => new Request('https://rs.example/mcp', { method: 'POST', body: JSON.stringify(body) });
    const call = (id: number, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
    expect(await gate(post(call(1, 'read')), { token: 't', clientId: 'client', scopes: [] })).toBeUndefined();
    const inventory = await gate(post(call(2, 'read')), { token: 't', clientId: INVENTORY_CLIENT_ID, scopes: [] });
    expect(await inventory!.json()).toMatchObject({ id: 2, error: { code: TOOL_REFUSED_ERROR_CODE, data: { reason: 'tool_not_approved' } } });
    const batch = await gate(post([call(3, 'read'), call(4, 'write')]), { token: 't', clientId: 'client', scopes: [] });
    expect(batch!.status).toBe(200);
    expect(await batch!.json()).toEqual([{ jsonrpc: '2.0', id: 4, error: {
      code: TOOL_REFUSED_ERROR_CODE, message: 'the tool "write" has not been approved by an operator; calls to write tools are refused until it is approved',
      data: { reason: 'tool_not_approved', tool: 'write', status: 'new', risk: 'write' },
    } }]);
  });

  it('the node adapter answers a refused call with the JSON-RPC error and lets an approved one through', async () => {
    const gate = nodeToolPinGate(pinsWith(catalogServer(() => catalog([served[0]!])).fetch));
    // What nodeBearerAuth leaves on the request: the verified token and the parsed body.
    const http = createServer(async (req: NodeRequest, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      req.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      req.auth = { clientId: 'client' } as NodeRequest['auth'];
      if (!(await gate(req, res))) res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ran":true}');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    const call = (name: string) => fetch(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name } }) }).then((r) => r.json());
    try {
      expect(await call('read')).toEqual({ ran: true });
      expect(await call('write')).toMatchObject({ id: 9, error: { code: TOOL_REFUSED_ERROR_CODE, data: { tool: 'write', status: 'new' } } });
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it('budgets (issue 14 §7): counted per grant, else per subject and client; refused as -32004 budget_exceeded', async () => {
    const as = catalogServer(() => Response.json({ drift: 'block', scopes: { r: 'read', w: 'write' },
      tools: served.map((t) => ({ name: t.name, digest: approvedDigest(t) })),
      budgets: [{ tool: 'read', risk: null, max: 1, per_seconds: 3600 }, { tool: null, risk: 'write', max: 2, per_seconds: 3600 }], max_result_bytes: 64 }));
    const pins = pinsWith(as.fetch);
    expect(await pins.decide('read', 'client', { subject: 'alice' })).toMatchObject({ allowed: true });
    expect(await pins.decide('read', 'client', { subject: 'alice' })).toMatchObject({ allowed: false, overBudget: { max: 1, perSeconds: 3600 } });
    // Another person, the same person with another client, and a token naming a grant each have their own window.
    expect((await pins.decide('read', 'client', { subject: 'bob' })).allowed).toBe(true);
    expect((await pins.decide('read', 'other-client', { subject: 'alice' })).allowed).toBe(true);
    expect((await pins.decide('read', 'client', { subject: 'alice', grantId: 'g1' })).allowed).toBe(true);
    expect((await pins.decide('read', 'client', { subject: 'carol', grantId: 'g1' })).allowed).toBe(false);
    // The risk-class budget: two write calls, then refused.
    expect((await pins.decide('write', 'client', { subject: 'alice' })).allowed).toBe(true);
    expect((await pins.decide('write', 'client', { subject: 'alice' })).allowed).toBe(true);
    const refusal = await toolPinRefusal(pins, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'write' } }, 'client', undefined, { subject: 'alice' });
    expect(refusal).toMatchObject({ id: 9, error: { code: TOOL_BUDGET_ERROR_CODE, data: { reason: 'budget_exceeded', tool: 'write', risk: 'write', max: 2, per_seconds: 3600 } } });
    expect(pins.maxResultBytes()).toBe(64);
  });
});
