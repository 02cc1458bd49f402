// One resource's tool catalog as the operator sees it (issue 14 §1-4): each tool listed now or approved
// before, with its scopes, risk, status against its pin, flags, poisoned-text findings and open drift. Pure.
import type { ToolDefinition } from '@portcullis/resource-server';
import type { ResourceScope } from '../resources/schema.ts';
import { FLAG_WORDS, toolFlagsOf, toolRisk, type ToolFlag, type ToolRisk } from './blast-radius.ts';
import { findPoisonedText, type DescriptionFinding } from './poisoned-description.ts';
import type { ApprovedTool, OpenDrift, StoredTool } from './store.ts';

export type ToolStatus = 'approved' | 'new' | 'changed' | 'removed';

/** The blast-radius flags, and `poisoned_description` when the tool's text has findings (§4). */
export type CatalogFlag = ToolFlag | 'poisoned_description';

export const CATALOG_FLAG_WORDS: Record<CatalogFlag, string> = {
  ...FLAG_WORDS,
  poisoned_description: 'its text may carry hidden instructions for the model: approving it needs an explicit acknowledgement',
};

export interface CatalogTool {
  name: string;
  /** The definition served now; for a removed tool, the approved one. */
  definition: ToolDefinition;
  approved: ApprovedTool | undefined;
  risk: ToolRisk;
  status: ToolStatus;
  flags: CatalogFlag[];
  /** What the poisoned-description detector found in `definition` (empty when nothing). */
  findings: DescriptionFinding[];
  /** The readable diff of the open drift (empty when none is open). */
  diff: string;
}

/** The findings for a definition served by `resourceUri`: a URL to the server's own host is expected. */
export const findingsOf = (definition: ToolDefinition, resourceUri: string): DescriptionFinding[] =>
  findPoisonedText(definition, { allowedUrlHosts: [new URL(resourceUri).hostname] });

export function buildCatalog(listed: readonly StoredTool[], approved: readonly ApprovedTool[], drift: readonly OpenDrift[], scopes: readonly ResourceScope[], resourceUri: string): CatalogTool[] {
  const names = [...new Set([...listed.map((t) => t.name), ...approved.map((t) => t.name)])].sort();
  return names.map((name) => {
    const now = listed.find((t) => t.name === name);
    const pin = approved.find((t) => t.name === name);
    const definition = (now ?? pin)!.definition;
    const status: ToolStatus = !now ? 'removed' : !pin ? 'new' : pin.digest === now.digest ? 'approved' : 'changed';
    const open = drift.filter((d) => d.name === name);
    const findings = findingsOf(definition, resourceUri);
    return {
      name, definition, approved: pin, risk: toolRisk(definition, scopes), status, findings,
      flags: [...toolFlagsOf(definition, scopes), ...(findings.length > 0 ? ['poisoned_description' as const] : [])],
      diff: status === 'approved' ? '' : open[open.length - 1]?.diff ?? '',
    };
  });
}
