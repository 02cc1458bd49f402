// Where the kit counts tool calls against their budgets (issue 14 §7): the interface every store keeps, and the
// default store, a sliding window per budget and caller in this process's memory (redis-budget-store.ts shares one).
import type { ToolBudget } from './tool-pins.ts';

/** One call to count: who calls, at which resource, and every budget that matches the tool. */
export interface BudgetCall {
  /**
   * The resource whose budgets these are (the kit passes its catalog endpoint with its client id: one credential
   * per resource), so two MCP servers sharing one store never share a count.
   */
  resource: string;
  /** Who the call counts against: `grant:<grant_id>`, else `sub:<sub>` with the client id. Unbounded: hash it before using it as a key. */
  caller: string;
  /** The budgets of the tool and of its risk class; never empty. */
  budgets: readonly ToolBudget[];
}

/**
 * Counts tool calls per budget and caller (`ToolPinsOptions.budgetStore`). `admit` must be atomic: it counts the
 * call in every budget of `call.budgets` only when all of them have room, and answers the first budget without
 * room (nothing counted), or undefined (counted in all). It must settle in bounded time: a rejection (or a
 * timeout of its own) makes the kit refuse the call as unchecked (README "Budgets").
 */
export interface BudgetStore {
  admit(call: BudgetCall): Promise<ToolBudget | undefined>;
}

/** Options of the in-memory store. */
export interface MemoryBudgetStoreOptions {
  /** Windows kept at most (oldest forgotten first), so memory stays bounded whatever the traffic. Default 10,000. */
  maxKeys?: number;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/**
 * The default budget store: sliding windows (the times of the calls within `per_seconds`) in this process's
 * memory. Several processes of one server each count their own: share one with `createRedisBudgetStore`.
 */
export function createMemoryBudgetStore(options: MemoryBudgetStoreOptions = {}): BudgetStore {
  const windows = new Map<string, number[]>();
  const maxKeys = options.maxKeys ?? 10_000;
  const clock = options.now ?? Date.now;
  return {
    async admit({ resource, caller, budgets }) {
      const now = clock();
      const seen = budgets.map((budget) => {
        const id = `${resource}\u0000${budget.tool ?? ''}\u0000${budget.risk ?? ''}\u0000${caller}`;
        const recent = (windows.get(id) ?? []).filter((at) => at > now - budget.per_seconds * 1000);
        return { budget, id, recent };
      });
      const over = seen.find((s) => s.recent.length >= s.budget.max);
      for (const { id, recent } of seen) {
        if (!over) recent.push(now);
        // Re-inserted so the Map's order is least recently used first.
        windows.delete(id);
        windows.set(id, recent);
      }
      while (windows.size > maxKeys) windows.delete(windows.keys().next().value!);
      return over?.budget;
    },
  };
}
