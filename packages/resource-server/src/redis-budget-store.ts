// Budget counts shared by every process of one MCP server (issue 14 §7): one sorted set per resource, caller
// and budget in Redis, checked and counted by one Lua script. The kit loads no Redis client: the user passes `eval`.
import { createHash, randomUUID } from 'node:crypto';
import type { BudgetStore } from './budget-store.ts';
import type { ToolBudget } from './tool-pins.ts';

// KEYS: one sorted set per budget (members: one per counted call, scored by its time in ms). ARGV: per budget its
// max and its window in ms, then the call's unique member. The time is Redis's own (TIME), not the caller's: every
// process then judges every window by one clock, so a process whose clock runs ahead cannot expire the others'
// calls early, nor one running behind keep them too long. Old calls go first, then all budgets are checked, and
// only if every one has room is the call added to all of them (0 answered), else the 1-based index of the first
// full budget is answered and nothing is added. Each set expires a window after its latest call: memory stays bounded.
const ADMIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[2 * i]))
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 * i - 1]) then return i end
end
local member = ARGV[2 * #KEYS + 1]
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
end
return 0`;

/** How `createRedisBudgetStore` reaches Redis, names its keys and bounds its wait. */
export interface RedisBudgetStoreOptions {
  /**
   * Runs a Lua script with EVAL and resolves to its reply. ioredis: `(script, keys, args) => redis.eval(script,
   * keys.length, ...keys, ...args)`; node-redis: `(script, keys, args) => client.eval(script, { keys, arguments: args })`.
   */
  eval: (script: string, keys: string[], args: string[]) => Promise<unknown>;
  /** Prepended to every key (default `portcullis:budget:`). */
  keyPrefix?: string;
  /** How long a call waits for Redis, in ms (default 1000); past it the call is refused as unchecked. */
  timeoutMs?: number;
}

/** A key part of bounded length for a value of any length: 128 bits of its SHA-256, base64url. */
const hashed = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the budget store did not answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * A budget store in Redis, shared by every process given one: exactly `max` calls per window are admitted across
 * all of them. Keys are `<prefix><resource hash>:{<caller hash>}:t:<tool hash>` (or `:r:<risk>`): no subject or
 * grant id appears in a key, and a caller's keys share one Redis Cluster slot (the `{}` hash tag), as one script needs.
 */
export function createRedisBudgetStore(options: RedisBudgetStoreOptions): BudgetStore {
  const prefix = options.keyPrefix ?? 'portcullis:budget:';
  const timeoutMs = options.timeoutMs ?? 1000;
  // Bad options fail at start, not as a refusal of every budgeted call later.
  if (typeof options.eval !== 'function') throw new TypeError('createRedisBudgetStore: eval must be a function (script, keys, args) => Promise');
  if (typeof prefix !== 'string') throw new TypeError('createRedisBudgetStore: keyPrefix must be a string');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('createRedisBudgetStore: timeoutMs must be a positive number of milliseconds');
  const keyOf = (resource: string, caller: string, budget: ToolBudget) =>
    `${prefix}${hashed(resource)}:{${hashed(caller)}}:${budget.tool !== null ? `t:${hashed(budget.tool)}` : `r:${budget.risk}`}`;
  return {
    async admit({ resource, caller, budgets }) {
      const keys = budgets.map((budget) => keyOf(resource, caller, budget));
      const args = [...budgets.flatMap((budget) => [String(budget.max), String(budget.per_seconds * 1000)]), randomUUID()];
      const reply = await withTimeout(Promise.resolve().then(() => options.eval(ADMIT, keys, args)), timeoutMs);
      // An integer reply only (ioredis and node-redis give a number): a null or an 'OK' must never read as 0, admitted.
      const index = typeof reply === 'number' || typeof reply === 'bigint' ? Number(reply) : Number.NaN;
      if (!Number.isInteger(index) || index < 0 || index > budgets.length) throw new Error(`the budget store answered ${String(reply)}`);
      return index === 0 ? undefined : budgets[index - 1];
    },
  };
}
