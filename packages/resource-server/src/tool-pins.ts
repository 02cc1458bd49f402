// Pinned tools (issue 14 §3, rug pulls): the catalog an operator approved at the authorization server, fetched
// with this resource's own client and cached briefly, against the definitions this server serves right now.
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
}

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
  /** Where warnings go (a read tool that drifted; `--drift warn`). Default console.warn. */
  onWarning?: (message: string, decision: ToolCallDecision) => void;
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
}

/** The pin check: one decision per `tools/call`. */
export interface ToolPins {
  /** Whether `tool` may be called now by a token of `clientId`, and why not. */
  decide(tool: string, clientId: string): Promise<ToolCallDecision>;
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
  return { drift, scopes: scopes as Record<string, ToolRisk>, tools: tools.filter((t) => typeof t?.name === 'string' && typeof t?.digest === 'string') };
}

/** The pin check the adapters run on every `tools/call` (mcp-sdk-v2.ts: `mcpServerToolPinGate`). */
export function createToolPins(options: ToolPinsOptions): ToolPins {
  const endpoint = options.endpoint ?? `${options.issuer.replace(/\/+$/, '')}/resource/tools`;
  const ttlMs = (options.cacheSeconds ?? 10) * 1000;
  const doFetch = options.fetch ?? fetch;
  const warn = options.onWarning ?? ((message) => console.warn(message));
  let cached: { catalog: ApprovedCatalog; at: number } | undefined;

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

  return {
    invalidate: () => { cached = undefined; },
    async decide(tool, clientId) {
      if (clientId === INVENTORY_CLIENT_ID) {
        return { tool, allowed: false, status: 'unverified', risk: 'write', reason: 'the authorization server\'s inventory token may list tools, never call them' };
      }
      const served = (await options.servedTools()).map(toolDefinitionOf).find((d) => d?.name === tool);
      // A tool this server does not serve is the MCP server's to answer (unknown tool).
      if (!served) return { tool, allowed: true, status: 'approved', risk: 'read' };
      const approved = await catalog();
      const risk = riskOf(served.scopes, approved);
      const pin = approved?.tools.find((t) => t.name === tool);
      if (pin && pin.digest === toolDigest(served)) return { tool, allowed: true, status: 'approved', risk };
      const status: ToolStatus = !approved ? 'unverified' : pin ? 'changed' : 'new';
      const what = status === 'unverified' ? 'could not be checked against the approved catalog (the authorization server is unreachable)'
        : status === 'changed' ? 'differs from the definition an operator approved' : 'has not been approved by an operator';
      const block = (approved?.drift ?? 'block') === 'block' && risk !== 'read';
      const decision: ToolCallDecision = { tool, allowed: !block, status, risk, reason: `the tool ${JSON.stringify(tool)} ${what}` };
      if (block) decision.reason = `${decision.reason}; calls to ${risk} tools are refused until it is approved`;
      else warn(`portcullis: ${decision.reason}; allowed (${risk === 'read' ? 'read tool' : 'drift policy warn'})`, decision);
      return decision;
    },
  };
}

/** The JSON-RPC error code of a `tools/call` refused by its pin (implementation-defined server error range). */
export const TOOL_REFUSED_ERROR_CODE = -32003;

/**
 * The JSON-RPC answer refusing the `tools/call`s in `body` (one message or a batch) that the pins do not
 * allow, or undefined when all may run. A batch with one refused call is refused whole: only the refused
 * calls get an error, none of the batch runs. The adapters send it with HTTP 200 (mcp-sdk-v2.ts, node.ts).
 */
export async function toolPinRefusal(pins: ToolPins, body: unknown, clientId: string, onRefused?: (decisions: ToolCallDecision[]) => void): Promise<unknown> {
  const messages = Array.isArray(body) ? body : [body];
  const refusals: { id: unknown; decision: ToolCallDecision }[] = [];
  for (const message of messages) {
    for (const tool of calledTools(message)) {
      const decision = await pins.decide(tool, clientId);
      if (!decision.allowed) refusals.push({ id: (message as { id?: unknown }).id ?? null, decision });
    }
  }
  if (refusals.length === 0) return undefined;
  onRefused?.(refusals.map((r) => r.decision));
  const errors = refusals.map(({ id, decision }) => ({
    jsonrpc: '2.0', id,
    error: { code: TOOL_REFUSED_ERROR_CODE, message: decision.reason, data: { reason: 'tool_not_approved', tool: decision.tool, status: decision.status, risk: decision.risk } },
  }));
  return Array.isArray(body) ? errors : errors[0];
}
