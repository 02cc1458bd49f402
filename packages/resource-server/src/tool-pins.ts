// Pinned tools (issue 14 §3, rug pulls): the catalog an operator approved at the authorization server, fetched
// with this resource's own client and cached briefly, against the definitions this server serves right now.
import { createMemoryBudgetStore, type BudgetStore } from './budget-store.ts';
import { INVENTORY_CLIENT_ID, toolDefinitionOf, toolDigest } from './tool-digest.ts';
import { calledTools } from './tool-scopes.ts';

/** A scope's risk class at the authorization server, and so the risk of the tools behind it. */
export type ToolRisk = 'read' | 'write' | 'irreversible';
/** What the operator chose for drift: `block` refuses drifted write/irreversible tools, `warn` lets them through. */
export type DriftPolicy = 'block' | 'warn';

/** What `GET {issuer}/resource/tools` answers (Portcullis; README "Tool governance"). */
export interface ApprovedCatalog {
  drift: DriftPolicy;
  /** Each scope of the resource with its risk class. */
  scopes: Record<string, ToolRisk>;
  tools: { name: string; digest: string }[];
  /** Call budgets (issue 14 §7): at most `max` calls per `per_seconds` of a tool, or of every tool of a risk class. */
  budgets?: ToolBudget[];
  /** The largest JSON result a tool may return, in bytes (null: no cap). */
  max_result_bytes?: number | null;
}

/** One budget as `GET {issuer}/resource/tools` answers it: exactly one of `tool` and `risk` is set. */
export interface ToolBudget { tool: string | null; risk: ToolRisk | null; max: number; per_seconds: number }

/** Who a call counts against: the grant when the token names one, else its subject with its client. */
export interface ToolCaller { subject?: string | undefined; grantId?: string | undefined }

/** How `createToolPins` reaches the approved catalog and learns what this server serves. */
export interface ToolPinsOptions {
  /** The authorization server's issuer; the catalog is at `{issuer}/resource/tools` unless `endpoint` is set. */
  issuer: string;
  endpoint?: string;
  /** This resource's own client (the introspection client: one credential per resource). */
  clientId: string;
  clientSecret: string;
  /** The tools this server serves now, as its tools/list would answer them (with `_meta` scopes). */
  servedTools: () => readonly unknown[] | Promise<readonly unknown[]>;
  /** How long a fetched catalog is reused, in seconds (default 10). On a failed refetch the last one stays. */
  cacheSeconds?: number;
  httpTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Where warnings go (a read tool that drifted; `--drift warn`; a budget store that failed). Default console.warn. */
  onWarning?: (message: string, decision: ToolCallDecision) => void;
  /**
   * Where calls are counted against their budgets: default this process's memory (`createMemoryBudgetStore`);
   * `createRedisBudgetStore` shares the counts between the server's processes. A store that fails or times out
   * refuses the calls that have a budget (`budgetUnavailable`), never lets them through uncounted.
   */
  budgetStore?: BudgetStore;
}

/** A called tool against its pin: `unverified` when no catalog could be fetched yet. */
export type ToolStatus = 'approved' | 'new' | 'changed' | 'unverified';

/** The verdict on one `tools/call`: allowed (maybe with a warning) or refused, and why in words. */
export interface ToolCallDecision {
  tool: string;
  allowed: boolean;
  status: ToolStatus;
  /** The risk of the scopes the served tool needs; `write` when it names none or one the catalog does not know. */
  risk: ToolRisk;
  reason?: string;
  /** Set when refused for going over a budget (issue 14 §7). */
  overBudget?: { max: number; perSeconds: number };
  /** Set when refused because the budget store failed or did not answer in time: the budget could not be checked. */
  budgetUnavailable?: true;
}

/** The pin check: one decision per `tools/call`. */
export interface ToolPins {
  /** Whether `tool` may be called now by a token of `clientId`, and why not. */
  decide(tool: string, clientId: string, caller?: ToolCaller): Promise<ToolCallDecision>;
  /** The result-size cap of the last fetched catalog, if any (`recordedTool` applies it). */
  maxResultBytes(): number | undefined;
  /** Forgets the cached catalog (after an approval, say): the next call fetches it again. */
  invalidate(): void;
}

const RANK: Record<ToolRisk, number> = { read: 0, write: 1, irreversible: 2 };

function riskOf(scopes: readonly string[] | null, catalog: ApprovedCatalog | undefined): ToolRisk {
  // No scope at all, or one the authorization server does not know: treated as a write, never as harmless.
  if (!scopes || scopes.length === 0 || !catalog) return 'write';
  return scopes.map((s) => catalog.scopes[s] ?? 'write').reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'read');
}

function parseCatalog(body: unknown): ApprovedCatalog | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { drift, scopes, tools } = body as Record<string, unknown>;
  if ((drift !== 'block' && drift !== 'warn') || typeof scopes !== 'object' || scopes === null || !Array.isArray(tools)) return undefined;
  const { budgets, max_result_bytes: cap } = body as Record<string, unknown>;
  const isRisk = (r: unknown): r is ToolRisk => r === 'read' || r === 'write' || r === 'irreversible';
  return {
    drift, scopes: scopes as Record<string, ToolRisk>, tools: tools.filter((t) => typeof t?.name === 'string' && typeof t?.digest === 'string'),
    budgets: (Array.isArray(budgets) ? budgets : []).filter((b): b is ToolBudget => typeof b === 'object' && b !== null
      && (typeof b.tool === 'string' || isRisk(b.risk)) && Number.isInteger(b.max) && b.max > 0 && Number.isInteger(b.per_seconds) && b.per_seconds > 0),
    max_result_bytes: typeof cap === 'number' && Number.isInteger(cap) && cap > 0 ? cap : null,
  };
}

/** The pin check the adapters run on every `tools/call` (mcp-sdk-v2.ts: `mcpServerToolPinGate`). */
export function createToolPins(options: ToolPinsOptions): ToolPins {
  const endpoint = options.endpoint ?? `${options.issuer.replace(/\/+$/, '')}/resource/tools`;
  const ttlMs = (options.cacheSeconds ?? 10) * 1000;
  const doFetch = options.fetch ?? fetch;
  const warn = options.onWarning ?? ((message) => console.warn(message));
  let cached: { catalog: ApprovedCatalog; at: number } | undefined;
  const budgetStore = options.budgetStore ?? createMemoryBudgetStore();
  // One credential per resource: the catalog and the client name whose budgets these are (budget-store.ts).
  const resource = `${endpoint} ${options.clientId}`;

  async function catalog(): Promise<ApprovedCatalog | undefined> {
    if (cached && Date.now() - cached.at < ttlMs) return cached.catalog;
    try {
      const response = await doFetch(endpoint, {
        headers: { accept: 'application/json', authorization: `Basic ${btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`)}` },
        signal: AbortSignal.timeout(options.httpTimeoutMs ?? 5000),
      });
      const parsed = response.status === 200 ? parseCatalog(await response.json()) : undefined;
      if (parsed) cached = { catalog: parsed, at: Date.now() };
    } catch {
      // Unreachable: the last catalog stays in force; with none, unverified tools are judged as drift.
    }
    return cached?.catalog;
  }

  /** The allowed decision, or a refusal when a budget of the tool or its risk class has no room for this caller. */
  async function withinBudget(decision: ToolCallDecision, approved: ApprovedCatalog | undefined, clientId: string, caller: ToolCaller | undefined): Promise<ToolCallDecision> {
    const budgets = (approved?.budgets ?? []).filter((b) => b.tool === decision.tool || (b.tool === null && b.risk === decision.risk));
    if (!decision.allowed || budgets.length === 0) return decision;
    // A budget shared by many must not be spendable by a stranger: per grant, else per person and client.
    const key = caller?.grantId ? `grant:${caller.grantId}` : `sub:${caller?.subject ?? ''}\u0000${clientId}`;
    let over: ToolBudget | undefined;
    try {
      over = await budgetStore.admit({ resource, caller: key, budgets });
    } catch (error) {
      // Fail closed: a budget is an operator's limit on what agents may do; an outage of its store must not lift it.
      // The store's own error goes to the operator only: the caller learns that the check failed, not why.
      const refused: ToolCallDecision = {
        ...decision, allowed: false, budgetUnavailable: true,
        reason: `the budget of the tool ${JSON.stringify(decision.tool)} could not be checked (the budget store is unavailable); try again later`,
      };
      warn(`portcullis: budget store failed (${error instanceof Error ? error.message : String(error)}); refused the call to ${JSON.stringify(decision.tool)}`, refused);
      return refused;
    }
    if (!over) return decision;
    const what = over.tool !== null ? `the tool ${JSON.stringify(decision.tool)}` : `${over.risk} tools`;
    return {
      ...decision, allowed: false, overBudget: { max: over.max, perSeconds: over.per_seconds },
      reason: `${what} may be called at most ${over.max} times per ${over.per_seconds} seconds for this grant; try again later`,
    };
  }

  return {
    invalidate: () => { cached = undefined; },
    maxResultBytes: () => cached?.catalog.max_result_bytes ?? undefined,
    async decide(tool, clientId, caller) {
      if (clientId === INVENTORY_CLIENT_ID) {
        return { tool, allowed: false, status: 'unverified', risk: 'write', reason: 'the authorization server\'s inventory token may list tools, never call them' };
      }
      const served = (await options.servedTools()).map(toolDefinitionOf).find((d) => d?.name === tool);
      // A tool this server does not serve is the MCP server's to answer (unknown tool).
      if (!served) return { tool, allowed: true, status: 'approved', risk: 'read' };
      const approved = await catalog();
      const risk = riskOf(served.scopes, approved);
      const pin = approved?.tools.find((t) => t.name === tool);
      if (pin && pin.digest === toolDigest(served)) return withinBudget({ tool, allowed: true, status: 'approved', risk }, approved, clientId, caller);
      const status: ToolStatus = !approved ? 'unverified' : pin ? 'changed' : 'new';
      const what = status === 'unverified' ? 'could not be checked against the approved catalog (the authorization server is unreachable)'
        : status === 'changed' ? 'differs from the definition an operator approved' : 'has not been approved by an operator';
      const block = (approved?.drift ?? 'block') === 'block' && risk !== 'read';
      const decision: ToolCallDecision = { tool, allowed: !block, status, risk, reason: `the tool ${JSON.stringify(tool)} ${what}` };
      if (block) decision.reason = `${decision.reason}; calls to ${risk} tools are refused until it is approved`;
      else warn(`portcullis: ${decision.reason}; allowed (${risk === 'read' ? 'read tool' : 'drift policy warn'})`, decision);
      return withinBudget(decision, approved, clientId, caller);
    },
  };
}

/** The JSON-RPC error code of a `tools/call` refused by its pin (implementation-defined server error range). */
export const TOOL_REFUSED_ERROR_CODE = -32003;
/** The JSON-RPC error code of a `tools/call` refused by its budget (issue 14 §7): over it (`budget_exceeded`) or unchecked (`budget_unavailable`). */
export const TOOL_BUDGET_ERROR_CODE = -32004;

/** The caller of a verified token (`AuthInfo` or `AccessTokenInfo`): its subject and any `grant_id` claim. */
export function toolCallerOf(auth: { extra?: Record<string, unknown> | undefined } | undefined): ToolCaller {
  const extra = auth?.extra ?? {};
  const claims = (typeof extra.claims === 'object' && extra.claims !== null ? extra.claims : {}) as Record<string, unknown>;
  const subject = typeof extra.subject === 'string' ? extra.subject : typeof claims.sub === 'string' ? claims.sub : undefined;
  return { subject, grantId: typeof claims.grant_id === 'string' ? claims.grant_id : undefined };
}

/**
 * The JSON-RPC answer refusing the `tools/call`s in `body` (one message or a batch) that the pins do not
 * allow, or undefined when all may run. A batch with one refused call is refused whole: only the refused
 * calls get an error, none of the batch runs. The adapters send it with HTTP 200 (mcp-sdk-v2.ts, node.ts).
 */
export async function toolPinRefusal(pins: ToolPins, body: unknown, clientId: string, onRefused?: (decisions: ToolCallDecision[]) => void, caller?: ToolCaller): Promise<unknown> {
  const messages = Array.isArray(body) ? body : [body];
  const refusals: { id: unknown; decision: ToolCallDecision }[] = [];
  for (const message of messages) {
    for (const tool of calledTools(message)) {
      const decision = await pins.decide(tool, clientId, caller);
      if (!decision.allowed) refusals.push({ id: (message as { id?: unknown }).id ?? null, decision });
    }
  }
  if (refusals.length === 0) return undefined;
  onRefused?.(refusals.map((r) => r.decision));
  const errors = refusals.map(({ id, decision }) => ({
    jsonrpc: '2.0', id,
    error: decision.overBudget
      ? { code: TOOL_BUDGET_ERROR_CODE, message: decision.reason, data: { reason: 'budget_exceeded', tool: decision.tool, risk: decision.risk, max: decision.overBudget.max, per_seconds: decision.overBudget.perSeconds } }
      : decision.budgetUnavailable
        ? { code: TOOL_BUDGET_ERROR_CODE, message: decision.reason, data: { reason: 'budget_unavailable', tool: decision.tool, risk: decision.risk } }
        : { code: TOOL_REFUSED_ERROR_CODE, message: decision.reason, data: { reason: 'tool_not_approved', tool: decision.tool, status: decision.status, risk: decision.risk } },
  }));
  return Array.isArray(body) ? errors : errors[0];
}
