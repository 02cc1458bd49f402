// Budgets shared across an MCP server's processes (issue 14 §7): two `createToolPins`, each with its own ioredis
// connection, stand for two processes sharing one Redis through `createRedisBudgetStore`; the counts left in Redis are
// read back after each race. Tests against a real Redis run when TEST_REDIS_URL names one (.ci/run sets it; keys under
// a random prefix, deleted afterwards); a dead Redis (a closed port, a server that never answers) is tested always.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryBudgetStore, createRedisBudgetStore, createResourceServer, createToolScopes, createToolCallRecorder, createToolPins, TOOL_BUDGET_ERROR_CODE, toolDefinitionOf,
  recordPinRefusals, toolDigest, toolPinRefusal, toolScopesMeta, type BudgetStore, type ToolBudget, type ToolCallDecision, type ToolPins,
} from '@portcullis/resource-server';
import { nodeBearerAuth, nodeToolPinGate, type NodeRequest } from '@portcullis/resource-server/node';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;
const prefix = `portcullis-test:${randomBytes(6).toString('hex')}:budget:`;

const served = [
  { name: 'read', description: 'Reads.', inputSchema: { type: 'object' }, _meta: toolScopesMeta(['r']) },
  { name: 'write', description: 'Writes.', inputSchema: { type: 'object' }, _meta: toolScopesMeta(['w']) },
];

/** The authorization server's catalog (outbound HTTP, the only thing played): both tools approved, with these budgets. */
const catalogFetch = (budgets: ToolBudget[]) => (async () => Response.json({
  drift: 'block', scopes: { r: 'read', w: 'write' },
  tools: served.map((t) => ({ name: t.name, digest: toolDigest(toolDefinitionOf(t)!) })), budgets,
})) as unknown as typeof fetch;

const tool = (name: string, max: number, perSeconds: number): ToolBudget => ({ tool: name, risk: null, max, per_seconds: perSeconds });

function pinsWith(budgetStore: BudgetStore, budgets: ToolBudget[], options: { clientId?: string; warnings?: [string, ToolCallDecision][] } = {}): ToolPins {
  return createToolPins({
    issuer: 'https://as.example', clientId: options.clientId ?? 'notes-rs', clientSecret: 's3cret', servedTools: () => served,
    fetch: catalogFetch(budgets), budgetStore, onWarning: (message, decision) => void options.warnings?.push([message, decision]),
  });
}

const connections: Redis[] = [];
/** One server process's own connection, and the store over it. */
function processStore(url = REDIS_URL!, timeoutMs?: number): BudgetStore {
  const redis = new Redis(url);
  redis.on('error', () => {});
  connections.push(redis);
  return createRedisBudgetStore({
    eval: (script, keys, args) => redis.eval(script, keys.length, ...keys, ...args), keyPrefix: prefix, ...(timeoutMs ? { timeoutMs } : {}),
  });
}
afterAll(() => { for (const redis of connections) redis.disconnect(); });

describe.skipIf(!REDIS_URL)('budgets in Redis, shared by two processes', () => {
  let redis: Redis;
  beforeAll(() => { redis = new Redis(REDIS_URL!); });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.disconnect());

  /** Every budget key with the calls it holds now (expired calls removed first, as the script does). */
  async function live(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const key of await redis.keys(`${prefix}*`)) counts.set(key, await redis.zcard(key));
    return counts;
  }
  const total = async () => [...(await live()).values()].reduce((a, b) => a + b, 0);

  it('N concurrent calls across both against a budget of M: exactly M admitted, and M counted in Redis', async () => {
    const budgets = [tool('read', 7, 3600)];
    const first = pinsWith(processStore(), budgets);
    const second = pinsWith(processStore(), budgets);
    const caller = { subject: 'alice-with-a-long-subject@example.com' };
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? first : second).decide('read', 'client', caller)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(7);
    expect(decisions.filter((d) => !d.allowed).every((d) => d.overBudget?.max === 7 && !d.budgetUnavailable)).toBe(true);
    const counts = await live();
    expect([...counts.values()]).toEqual([7]);
    const [key] = [...counts.keys()];
    // No subject or client in the key: hashed, of bounded length; it lives for the window, no longer.
    expect(key).not.toContain('alice');
    expect(key).not.toContain('client');
    expect(key!.length).toBeLessThan(prefix.length + 80);
    const ttl = await redis.pttl(key!);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    // Both processes see the same count: neither admits an eighth.
    expect((await first.decide('read', 'client', caller)).allowed).toBe(false);
    expect((await second.decide('read', 'client', caller)).allowed).toBe(false);
    expect(await total()).toBe(7);
  });

  it('counts a call in every matching budget only when all have room', async () => {
    // The tool's budget (2) fills before its class's (5), which is checked first: the refused calls are counted in neither.
    const budgets = [{ tool: null, risk: 'read' as const, max: 5, per_seconds: 3600 }, tool('read', 2, 3600)];
    const first = pinsWith(processStore(), budgets);
    const second = pinsWith(processStore(), budgets);
    const decisions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? first : second).decide('read', 'client', { subject: 'alice' })));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(2);
    expect(decisions.filter((d) => !d.allowed).map((d) => d.overBudget)).toEqual(Array(8).fill({ max: 2, perSeconds: 3600 }));
    expect([...(await live()).values()]).toEqual([2, 2]);
  });

  it('a window that has passed admits again, and its key expires with it', async () => {
    const budgets = [tool('read', 2, 1)];
    const first = pinsWith(processStore(), budgets);
    const second = pinsWith(processStore(), budgets);
    const caller = { subject: 'alice' };
    expect((await first.decide('read', 'client', caller)).allowed).toBe(true);
    expect((await second.decide('read', 'client', caller)).allowed).toBe(true);
    expect(await first.decide('read', 'client', caller)).toMatchObject({ allowed: false, overBudget: { max: 2, perSeconds: 1 } });
    const [key] = [...(await live()).keys()];
    expect(await redis.pttl(key!)).toBeLessThanOrEqual(1000);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Gone from Redis (nothing kept past the window), and the next call is admitted on either process.
    expect(await redis.exists(key!)).toBe(0);
    expect((await second.decide('read', 'client', caller)).allowed).toBe(true);
    expect((await first.decide('read', 'client', caller)).allowed).toBe(true);
    expect((await second.decide('read', 'client', caller)).allowed).toBe(false);
    expect(await total()).toBe(2);
  });

  it('a caller exhausting its budget on one process leaves another caller\'s untouched on the other', async () => {
    const budgets = [tool('write', 3, 3600)];
    const first = pinsWith(processStore(), budgets);
    const second = pinsWith(processStore(), budgets);
    const alice = { subject: 'alice' };
    await Promise.all(Array.from({ length: 6 }, () => first.decide('write', 'client', alice)));
    expect((await second.decide('write', 'client', alice)).allowed).toBe(false);
    // Another person; the same person through another client; grants (a grant_id claim) each count on their own.
    const others: [string, { subject?: string; grantId?: string }][] = [
      ['client', { subject: 'bob' }], ['other-client', alice], ['client', { subject: 'alice', grantId: 'g1' }], ['client', { subject: 'mallory', grantId: 'g2' }],
    ];
    for (const [clientId, caller] of others) {
      const admitted = await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 ? first : second).decide('write', clientId, caller)));
      expect(admitted.filter((d) => d.allowed), JSON.stringify(caller)).toHaveLength(3);
    }
    // A stranger naming the same grant spends that grant's budget, not a fresh one: the grant is the caller.
    expect((await first.decide('write', 'client', { subject: 'carol', grantId: 'g1' })).allowed).toBe(false);
    expect([...(await live()).values()]).toEqual([3, 3, 3, 3, 3]);
  });

  it('two resources sharing one Redis keep separate counts', async () => {
    const budgets = [tool('read', 2, 3600)];
    const notes = [pinsWith(processStore(), budgets, { clientId: 'notes-rs' }), pinsWith(processStore(), budgets, { clientId: 'notes-rs' })];
    const files = [pinsWith(processStore(), budgets, { clientId: 'files-rs' }), pinsWith(processStore(), budgets, { clientId: 'files-rs' })];
    const caller = { subject: 'alice' };
    const notesCalls = await Promise.all(Array.from({ length: 4 }, (_, i) => notes[i % 2]!.decide('read', 'client', caller)));
    const filesCalls = await Promise.all(Array.from({ length: 4 }, (_, i) => files[i % 2]!.decide('read', 'client', caller)));
    expect(notesCalls.filter((d) => d.allowed)).toHaveLength(2);
    expect(filesCalls.filter((d) => d.allowed)).toHaveLength(2);
    expect([...(await live()).values()]).toEqual([2, 2]);
  });

  it('a tool without a budget never touches Redis', async () => {
    const pins = pinsWith(processStore(), [tool('read', 1, 3600)]);
    expect((await pins.decide('write', 'client', { subject: 'alice' })).allowed).toBe(true);
    expect(await live()).toEqual(new Map());
  });
});

describe('a budget store that fails or does not answer', () => {
  const servers: TcpServer[] = [];
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  async function listening(server: TcpServer): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }
  /** A port nothing listens on: bound by us, then closed. */
  async function closedPort(): Promise<number> {
    const server = createTcpServer();
    const port = await listening(server);
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  /** A server that accepts connections and never answers a byte (a hung Redis). */
  async function silentPort(): Promise<number> {
    const server = createTcpServer((socket) => void sockets.push(socket));
    servers.push(server);
    return listening(server);
  }

  it('refuses calls that have a budget within the timeout, as -32004 budget_unavailable; calls without one run', async () => {
    for (const port of [await closedPort(), await silentPort()]) {
      const warnings: [string, ToolCallDecision][] = [];
      const pins = pinsWith(processStore(`redis://127.0.0.1:${port}`, 300), [tool('read', 5, 3600)], { warnings });
      const started = Date.now();
      const decision = await pins.decide('read', 'client', { subject: 'alice' });
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(decision).toMatchObject({ allowed: false, budgetUnavailable: true, status: 'approved' });
      expect(decision.reason).toBe('the budget of the tool "read" could not be checked (the budget store is unavailable); try again later');
      // Why goes to the operator, not to the caller.
      expect(warnings).toEqual([['portcullis: budget store failed (the budget store did not answer within 300 ms); refused the call to "read"', decision]]);
      // A tool with no budget does not need the store.
      expect((await pins.decide('write', 'client', { subject: 'alice' })).allowed).toBe(true);

      const body = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'read', arguments: { q: 1 } } };
      const refusal = await toolPinRefusal(pins, body, 'client', undefined, { subject: 'alice' });
      expect(refusal).toEqual({ jsonrpc: '2.0', id: 4, error: { code: TOOL_BUDGET_ERROR_CODE, message: decision.reason, data: { reason: 'budget_unavailable', tool: 'read', risk: 'read' } } });
    }
  });

  it('a store that throws refuses the call the same way, without its error, and its record says refused_by_budget', async () => {
    const broken: BudgetStore = { admit: async () => { throw new Error('NOAUTH Authentication required.'); } };
    const warnings: [string, ToolCallDecision][] = [];
    const pins = pinsWith(broken, [tool('read', 5, 3600)], { warnings });
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read', arguments: {} } };
    const sent: unknown[] = [];
    const recorder = createToolCallRecorder({
      issuer: 'https://as.example', clientId: 'notes-rs', clientSecret: 's3cret', flushIntervalMs: 3_600_000,
      fetch: (async (_url: RequestInfo | URL, init?: RequestInit) => { sent.push(JSON.parse(String(init?.body))); return Response.json({ accepted: 1 }); }) as typeof fetch,
    });
    const auth = { clientId: 'client', extra: { subject: 'alice' } };
    const refusal = await toolPinRefusal(pins, body, 'client', (refused) => recordPinRefusals(recorder, auth, body, refused), { subject: 'alice' });
    expect(refusal).toMatchObject({ error: { code: TOOL_BUDGET_ERROR_CODE, data: { reason: 'budget_unavailable' } } });
    expect(JSON.stringify(refusal)).not.toContain('NOAUTH');
    expect(warnings[0]![0]).toContain('NOAUTH Authentication required.');
    await recorder.close();
    expect(sent).toMatchObject([{ records: [{ tool: 'read', sub: 'alice', decision: 'refused_by_budget', result_bytes: null }] }]);
  });
});

describe('createRedisBudgetStore options', () => {
  it('refuses bad options at start', () => {
    const evalFn = async () => 0;
    expect(() => createRedisBudgetStore({ eval: undefined as never })).toThrow(/eval must be a function/);
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createRedisBudgetStore({ eval: evalFn, timeoutMs }), String(timeoutMs)).toThrow(/timeoutMs/);
    }
  });

  it('refuses a call when Redis answers something other than the script\'s reply', async () => {
    for (const reply of ['OK', 2, -1, null]) {
      const store = createRedisBudgetStore({ eval: async () => reply });
      await expect(store.admit({ resource: 'r', caller: 'c', budgets: [tool('read', 1, 60)] }), String(reply)).rejects.toThrow(/answered/);
    }
  });
});

describe('the in-memory default store', () => {
  it('keeps one process\'s sliding window per resource and caller, and counts only when every budget has room', async () => {
    let now = 1_000_000;
    const store = createMemoryBudgetStore({ now: () => now });
    const budgets = [{ tool: null, risk: 'read' as const, max: 3, per_seconds: 10 }, tool('read', 2, 10)];
    const admit = (caller = 'sub:alice', resource = 'notes') => store.admit({ resource, caller, budgets });
    expect(await admit()).toBeUndefined();
    expect(await admit()).toBeUndefined();
    expect(await admit()).toBe(budgets[1]);
    expect(await admit('sub:bob')).toBeUndefined();
    expect(await admit('sub:alice', 'files')).toBeUndefined();
    now += 10_001;
    // The window slid past both calls; the refused one was counted in neither budget (else the class's 3 would be full).
    expect(await admit()).toBeUndefined();
    expect(await admit()).toBeUndefined();
    expect(await admit()).toBe(budgets[1]);
  });

  it('forgets the oldest caller past maxKeys, so memory stays bounded', async () => {
    const store = createMemoryBudgetStore({ maxKeys: 2 });
    const budgets = [tool('read', 1, 3600)];
    expect(await store.admit({ resource: 'r', caller: 'a', budgets })).toBeUndefined();
    expect(await store.admit({ resource: 'r', caller: 'a', budgets })).toBe(budgets[0]);
    await store.admit({ resource: 'r', caller: 'b', budgets });
    await store.admit({ resource: 'r', caller: 'c', budgets });
    expect(await store.admit({ resource: 'r', caller: 'a', budgets })).toBeUndefined();
  });
});

describe.skipIf(!REDIS_URL)('end to end: two node servers of one MCP server sharing Redis, a real MCP SDK v2 client', () => {
  let as: FakeAs;
  const servers: HttpServer[] = [];
  let redis: Redis;
  beforeAll(async () => {
    as = await startFakeAs();
    redis = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await as?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** One process: the kit's node adapter (token, then pins with the shared store), then the SDK v2 handler. */
  async function startProcess(budgets: ToolBudget[]): Promise<string> {
    const kit = createResourceServer({ resource: RESOURCE, issuer: as.issuer });
    const auth = nodeBearerAuth(kit, { toolScopes: createToolScopes({ read: ['r'], write: ['w'] }) });
    const pinGate = nodeToolPinGate(pinsWith(processStore(), budgets));
    const mcp = toNodeHandler(createMcpHandler(() => {
      const server = new McpServer({ name: 'budgeted', version: '1.0.0' });
      server.registerTool('read', { description: 'Reads.' }, () => ({ content: [{ type: 'text', text: 'read' }] }));
      return server;
    }));
    const http = createHttpServer(async (req: NodeRequest, res) => {
      let verified = false;
      await auth(req, res, () => { verified = true; });
      if (verified && !(await pinGate(req, res))) await mcp(req, res, req.body);
    });
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  }

  async function callRead(url: string, token: string): Promise<{ text?: string; code?: number; message?: string }> {
    const mcp = new Client({ name: 'budget-e2e', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const result = await mcp.callTool({ name: 'read', arguments: {} });
      return { text: (result.content as { text: string }[])[0]?.text };
    } catch (error) {
      return { code: (error as { code?: number }).code, message: (error as Error).message };
    } finally {
      await mcp.close();
    }
  }

  it('a budget of 3 admits 3 calls across both servers, refuses the rest with -32004, and counts each person apart', async () => {
    const budgets = [tool('read', 3, 3600)];
    const urls = [await startProcess(budgets), await startProcess(budgets)];
    const alice = await as.sign({ scope: 'r', sub: 'alice' });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => callRead(urls[i % 2]!, alice)));
    expect(answers.filter((a) => a.text === 'read')).toHaveLength(3);
    const refused = answers.filter((a) => a.text === undefined);
    expect(refused).toHaveLength(5);
    for (const answer of refused) {
      expect(answer.code).toBe(TOOL_BUDGET_ERROR_CODE);
      expect(answer.message).toContain('the tool "read" may be called at most 3 times per 3600 seconds');
    }
    expect([...(await Promise.all((await redis.keys(`${prefix}*`)).map((key) => redis.zcard(key))))]).toEqual([3]);
    // Another person with the same client keeps a budget of their own, on either server.
    const bob = await as.sign({ scope: 'r', sub: 'bob' });
    expect(await callRead(urls[1]!, bob)).toEqual({ text: 'read' });
    expect((await callRead(urls[0]!, alice)).code).toBe(TOOL_BUDGET_ERROR_CODE);
  });
});
