// A tool's blast radius (issue 14 §2): its risk is the highest class among the scopes it needs, as the resource
// declares them; flags say where the tool's own annotations contradict that, or where its scope is not known.
import type { ToolDefinition } from '@portcullis/resource-server';
import type { ResourceScope, Risk } from '../resources/schema.ts';

/** `unknown`: the server did not say which scope the tool needs (no `_meta` "portcullis/scopes"). */
export type ToolRisk = Risk | 'unknown';

export const toolFlags = [
  'destructive_behind_read_scope', // destructiveHint true, yet a read scope is enough
  'no_scope', // the tool needs no scope at all: any token for the resource may call it
  'read_only_hint_on_irreversible_scope', // readOnlyHint true on a tool behind an irreversible scope
  'scope_unknown', // the server does not report the tool's scope (a server without the kit)
  'undeclared_scope', // the tool needs a scope the resource does not declare
] as const;
export type ToolFlag = (typeof toolFlags)[number];

const RANK: Record<Risk, number> = { read: 0, write: 1, irreversible: 2 };

export const riskRank = (risk: ToolRisk) => (risk === 'unknown' ? 1 : RANK[risk]);

/** The risk class of the scopes a tool needs; a scope the resource does not declare counts as write. */
export function toolRisk(definition: ToolDefinition, scopes: readonly ResourceScope[]): ToolRisk {
  if (definition.scopes === null) return 'unknown';
  return definition.scopes.map((name) => scopes.find((s) => s.scope === name)?.risk ?? 'write')
    .reduce<Risk>((highest, risk) => (RANK[risk] > RANK[highest] ? risk : highest), 'read');
}

const hint = (definition: ToolDefinition, key: 'destructiveHint' | 'readOnlyHint') =>
  typeof definition.annotations === 'object' && definition.annotations !== null && (definition.annotations as Record<string, unknown>)[key] === true;

/** The warnings for one tool, in the order of `toolFlags`. */
export function toolFlagsOf(definition: ToolDefinition, scopes: readonly ResourceScope[]): ToolFlag[] {
  const risk = toolRisk(definition, scopes);
  const flags: ToolFlag[] = [];
  if (hint(definition, 'destructiveHint') && risk === 'read') flags.push('destructive_behind_read_scope');
  if (definition.scopes !== null && definition.scopes.length === 0) flags.push('no_scope');
  if (hint(definition, 'readOnlyHint') && risk === 'irreversible') flags.push('read_only_hint_on_irreversible_scope');
  if (definition.scopes === null) flags.push('scope_unknown');
  if (definition.scopes?.some((name) => !scopes.some((s) => s.scope === name))) flags.push('undeclared_scope');
  return flags;
}

/** Each flag in words, for the CLI and the console. */
export const FLAG_WORDS: Record<ToolFlag, string> = {
  destructive_behind_read_scope: 'marked destructive, yet a read scope is enough to call it',
  no_scope: 'needs no scope: any token for this resource may call it',
  read_only_hint_on_irreversible_scope: 'marked read-only, yet it sits behind an irreversible scope',
  scope_unknown: 'the server does not report which scope it needs',
  undeclared_scope: 'needs a scope this resource does not declare',
};
