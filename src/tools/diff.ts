// The readable diff of one tool between the approved definition and the one served now (issue 14 §3): one
// line per field that changed, values as canonical JSON, and a scope that got weaker said in so many words.
import { canonicalJson, type ToolDefinition } from '@portcullis/resource-server';
import type { ResourceScope } from '../resources/schema.ts';
import { riskRank, toolRisk } from './blast-radius.ts';

const FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations', 'scopes'] as const;

const shown = (value: unknown) => (value === undefined ? '(none)' : canonicalJson(value));

/** `- field: before` / `+ field: after` pairs for every field that differs; empty when none does. */
export function toolDiff(before: ToolDefinition, after: ToolDefinition, scopes: readonly ResourceScope[]): string {
  const lines: string[] = [];
  for (const field of FIELDS) {
    const [a, b] = [before[field], after[field]];
    if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) continue;
    lines.push(`- ${field}: ${shown(a)}`, `+ ${field}: ${shown(b)}`);
  }
  const [was, now] = [toolRisk(before, scopes), toolRisk(after, scopes)];
  if (riskRank(now) < riskRank(was)) lines.push(`! moved to a weaker scope: ${was} → ${now}`);
  return lines.join('\n');
}

/** The diff of a tool that appeared, or disappeared: every field it has. */
export function wholeToolDiff(definition: ToolDefinition, sign: '+' | '-'): string {
  return FIELDS.filter((field) => definition[field] !== undefined).map((field) => `${sign} ${field}: ${shown(definition[field])}`).join('\n');
}
