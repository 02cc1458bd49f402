// Issue 14 §3, last sentence: when a scope gains tools of a higher risk than it had, grants holding that scope
// are flagged and the next authorization asks the person again. This file decides what "higher" means and
// records it; src/oidc/tool-reconsent.ts asks again, src/consent/ shows why, src/grants/tool-reconsent.ts clears the flag.
import type { ToolDefinition } from '@portcullis/resource-server';
import type { Queryable } from '../db/db.ts';
import type { ResourceScope, Risk } from '../resources/schema.ts';
import { riskRank, toolRisk } from './blast-radius.ts';
import { plainTitle } from './consent-tools.ts';
import { flagGrantsHoldingScope, saveScopeLevel, type NoticeTool } from '../grants/tool-reconsent-store.ts';

const highest = (a: Risk, b: Risk): Risk => (riskRank(b) > riskRank(a) ? b : a);

/**
 * A tool's risk for re-consent: its blast radius (the highest class among the scopes it needs), except that a
 * tool the server marks `destructiveHint: true` counts at least as write: a read scope that reaches a tool
 * changing things has gained risk, whatever class its scopes have. The hint only raises, never lowers.
 */
export function reconsentRisk(definition: ToolDefinition, scopes: readonly ResourceScope[]): Risk | undefined {
  const risk = toolRisk(definition, scopes);
  if (risk === 'unknown') return undefined; // behind no known scope: no grant holds it through a scope
  const annotations = definition.annotations as Record<string, unknown> | null | undefined;
  return typeof annotations === 'object' && annotations?.destructiveHint === true ? highest(risk, 'write') : risk;
}

/**
 * Each declared scope's level: the highest re-consent risk among the approved tools needing it (a tool needing
 * two scopes is behind both), never below the class the resource declares for the scope, which is what the
 * person read when they agreed. So approving a catalog whose tools match their scopes' classes changes nothing.
 */
export function scopeLevels(pins: readonly ToolDefinition[], scopes: readonly ResourceScope[]): Map<string, Risk> {
  const levels = new Map(scopes.map((s) => [s.scope, s.risk]));
  for (const definition of pins) {
    const risk = reconsentRisk(definition, scopes);
    if (!risk) continue;
    for (const scope of new Set(definition.scopes ?? [])) {
      const level = levels.get(scope);
      if (level) levels.set(scope, highest(level, risk));
    }
  }
  return levels;
}

/** A scope whose level an approval raised: from what, to what, and the tools behind it above the old level. */
export interface RaisedScope { scope: string; before: Risk; after: Risk; tools: NoticeTool[]; grants: number }

/**
 * Called inside an approval's transaction with the pins before and after it: every scope whose level rose is
 * recorded (resource_scope_tool_levels) and each live grant holding it for this resource is flagged. A level
 * that fell is recorded too, so a later rise counts from it; it flags nothing.
 */
export async function flagRaisedScopes(tx: Queryable, resourceUri: string, scopes: readonly ResourceScope[],
  before: readonly ToolDefinition[], after: readonly ToolDefinition[]): Promise<RaisedScope[]> {
  const was = scopeLevels(before, scopes);
  const now = scopeLevels(after, scopes);
  const raised: RaisedScope[] = [];
  for (const [scope, level] of now) {
    const previous = was.get(scope)!;
    if (level === previous) continue;
    await saveScopeLevel(tx, resourceUri, scope, level);
    if (riskRank(level) < riskRank(previous)) continue;
    const tools = after
      .filter((d) => d.scopes?.includes(scope) && riskRank(reconsentRisk(d, scopes) ?? 'read') > riskRank(previous))
      .map((d) => ({ name: d.name, title: plainTitle(typeof d.title === 'string' ? d.title : null, d.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    raised.push({ scope, before: previous, after: level, tools, grants: await flagGrantsHoldingScope(tx, resourceUri, scope, level, tools) });
  }
  return raised;
}

