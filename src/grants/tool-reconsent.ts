// A grant's re-consent flags (issue 14 §3) as an authorization reads them: from the request's prefetch
// (src/oidc/authorization-prefetch.ts) when it read them, else in one query; and their clearing once answered.
import type { Queryable } from '../db/db.ts';
import { requestCache } from '../request/adapter-cache.ts';
import { clearGrantFlags, flagsFromJson, listGrantFlags, type ToolReconsentFlag } from './tool-reconsent-store.ts';

export type { ToolReconsentFlag };

/** The grant's flags for `resourceUri`: from the request's prefetch when it read them, else one query. */
export async function reconsentFlagsOf(db: Queryable, grantId: string, resourceUri: string): Promise<ToolReconsentFlag[]> {
  const prefetched = requestCache.getToolReconsents(grantId);
  const flags = prefetched === undefined ? await listGrantFlags(db, grantId) : flagsFromJson(prefetched);
  return flags.filter((f) => f.resourceUri === resourceUri);
}

/** The person approved again with these flags shown: they are cleared (the answer's audit event names them). */
export const clearAnsweredFlags = (db: Queryable, grantId: string, shown: readonly ToolReconsentFlag[]): Promise<number> =>
  clearGrantFlags(db, grantId, shown);
