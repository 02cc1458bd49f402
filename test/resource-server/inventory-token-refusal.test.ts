// The authorization server's inventory token (client_id portcullis:tool-inventory, issue 14 §1) lists tools and
// never calls one: the kit's core refuses its tools/call wherever it sees the body, with or without the pin gate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResourceServer, createToolCallRecorder, createToolScopes, INVENTORY_CLIENT_ID, ResourceServerError } from '@portcullis/resource-server';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

let as: FakeAs;
beforeEach(async () => { as = await startFakeAs(); });
afterEach(async () => { await as.close(); });

const call = (name: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'secret words' } } });
const inventoryToken = () => as.sign({ client_id: INVENTORY_CLIENT_ID, sub: INVENTORY_CLIENT_ID, scope: 'notes:read' });

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ResourceServerError);
  return error as ResourceServerError;
}

describe('the inventory token at the kit core', () => {
  it('lists tools (tools/list passes) but any tools/call is refused 403, even of a tool needing no scope', async () => {
    const kit = createResourceServer({ resource: RESOURCE, issuer: as.issuer });
    const token = await inventoryToken();
    const listed = await kit.authenticate({ authorization: `Bearer ${token}`, method: 'POST', url: '/mcp', body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    expect(listed.clientId).toBe(INVENTORY_CLIENT_ID);
    for (const protect of [{}, { toolScopes: createToolScopes({ list_notes: ['notes:read'] }) }]) {
      const error = await refusal(kit.authenticate({ authorization: `Bearer ${token}`, method: 'POST', url: '/mcp', body: call('list_notes') }, protect));
      expect(error).toMatchObject({ code: 'insufficient_scope', status: 403, message: 'the authorization server\'s inventory token may list tools, never call them' });
      expect(kit.challenge(error).status).toBe(403);
    }
    // A batch hiding one call among other methods is refused whole.
    await refusal(kit.authenticate({ authorization: `Bearer ${token}`, method: 'POST', url: '/mcp', body: [{ jsonrpc: '2.0', id: 1, method: 'ping' }, call('other')] }));
  });

  it('an ordinary token of the same scope calls the tool; the refusal is recorded with a digest, never the arguments', async () => {
    const kit = createResourceServer({ resource: RESOURCE, issuer: as.issuer });
    const toolScopes = createToolScopes({ list_notes: ['notes:read'] });
    const ordinary = await kit.authenticate({ authorization: `Bearer ${await as.sign()}`, method: 'POST', url: '/mcp', body: call('list_notes') }, { toolScopes });
    expect(ordinary.clientId).toBe('client-1');

    const sent: string[] = [];
    const recorder = createToolCallRecorder({
      issuer: as.issuer, clientId: 'rs', clientSecret: 's', flushIntervalMs: 60_000,
      fetch: async (_url, init) => { sent.push(String(init?.body)); return new Response('{}', { status: 200 }); },
    });
    await refusal(kit.authenticate({ authorization: `Bearer ${await inventoryToken()}`, method: 'POST', url: '/mcp', body: call('list_notes') }, { toolScopes, toolCalls: recorder }));
    await recorder.close();
    const [batch] = sent.map((body) => JSON.parse(body) as { records: Record<string, unknown>[] });
    expect(batch!.records).toEqual([expect.objectContaining({ tool: 'list_notes', client_id: INVENTORY_CLIENT_ID, decision: 'insufficient_scope', result_bytes: null })]);
    expect(sent.join('')).not.toContain('secret words');
  });
});
