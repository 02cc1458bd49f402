// One resource's tool catalog as the operator sees it (issue 14 §1-3): each tool listed now or approved
// before, with its scopes, risk, status against its pin, flags and open drift. Pure: the service reads the rows.
import type { ToolDefinition } from '@portcullis/resource-server';
import type { ResourceScope } from '../resources/schema.ts';
import { toolFlagsOf, toolRisk, type ToolFlag, type ToolRisk } from './blast-radius.ts';
import type { ApprovedTool, OpenDrift, StoredTool } from './store.ts';

export type ToolStatus = 'approved' | 'new' | 'changed' | 'removed';

export interface CatalogTool {
  name: string;
  /** The definition served now; for a removed tool, the approved one. */
  definition: ToolDefinition;
  approved: ApprovedTool | undefined;
  risk: ToolRisk;
  status: ToolStatus;
  flags: ToolFlag[];
  /** The readable diff of the open drift (empty when none is open). */
  diff: string;
}

export function buildCatalog(listed: readonly StoredTool[], approved: readonly ApprovedTool[], drift: readonly OpenDrift[], scopes: readonly ResourceScope[]): CatalogTool[] {
  const names = [...new Set([...listed.map((t) => t.name), ...approved.map((t) => t.name)])].sort();
  return names.map((name) => {
    const now = listed.find((t) => t.name === name);
    const pin = approved.find((t) => t.name === name);
    const definition = (now ?? pin)!.definition;
    const status: ToolStatus = !now ? 'removed' : !pin ? 'new' : pin.digest === now.digest ? 'approved' : 'changed';
    const open = drift.filter((d) => d.name === name);
    return {
      name, definition, approved: pin, risk: toolRisk(definition, scopes), status, flags: toolFlagsOf(definition, scopes),
      diff: status === 'approved' ? '' : open[open.length - 1]?.diff ?? '',
    };
  });
}
