// One tool's definition as governance compares it (issue 14): the fields a model or an operator relies on,
// the scopes the kit reports in `_meta`, canonical JSON and its SHA-256. Portcullis and the kit share it.
import { createHash } from 'node:crypto';

/** The `_meta` key under which a kit-protected server reports each tool's required scopes (tools/list). */
export const TOOL_SCOPES_META_KEY = 'portcullis/scopes';

/**
 * The `client_id` of the tokens Portcullis issues itself to call `tools/list` for its inventory: the kit
 * lets such a token list tools and refuses every `tools/call` made with it (tool-pins.ts).
 */
export const INVENTORY_CLIENT_ID = 'portcullis:tool-inventory';

/** What is pinned of a tool: absent fields stay absent; `scopes` null when the server did not say. */
export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
  scopes: string[] | null;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The definition of one tool as tools/list describes it (MCP `Tool`); undefined for an entry without a name. */
export function toolDefinitionOf(tool: unknown): ToolDefinition | undefined {
  if (!isRecord(tool) || typeof tool.name !== 'string' || tool.name === '') return undefined;
  const meta = isRecord(tool._meta) ? tool._meta[TOOL_SCOPES_META_KEY] : undefined;
  const scopes = Array.isArray(meta) && meta.every((s) => typeof s === 'string') ? [...new Set(meta as string[])].sort() : null;
  const definition: ToolDefinition = { name: tool.name, scopes };
  if (typeof tool.title === 'string') definition.title = tool.title;
  if (typeof tool.description === 'string') definition.description = tool.description;
  for (const key of ['inputSchema', 'outputSchema', 'annotations'] as const) if (tool[key] !== undefined) definition[key] = tool[key];
  return definition;
}

/** JSON with object keys sorted at every depth and undefined members dropped: equal meaning, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (isRecord(value)) {
    const entries = Object.keys(value).sort().filter((key) => value[key] !== undefined);
    return `{${entries.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** `sha256:` and the base64url SHA-256 of the definition's canonical JSON. */
export const toolDigest = (definition: ToolDefinition): string =>
  `sha256:${createHash('sha256').update(canonicalJson(definition)).digest('base64url')}`;

/** `_meta` for a tool whose scopes the server knows: `{ "portcullis/scopes": [...] }`, to merge into the tool. */
export const toolScopesMeta = (scopes: readonly string[]): Record<string, string[]> => ({ [TOOL_SCOPES_META_KEY]: [...scopes] });
