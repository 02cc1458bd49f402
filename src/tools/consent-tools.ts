// The consent page in plain words (issue 14 §5): under each scope, the approved tools behind it by their titles
// ("Delete all notes"), name when untitled. From the operator's pins only: a new or changed definition is the
// server's untrusted text and never reaches the person. Titles are capped in length and number (the view escapes them).
import type { Db } from '../db/db.ts';
import { listApprovedToolTitles } from './store.ts';

/** Per scope: the first titles, and how many more tools sit behind it. */
export interface ScopeTools { titles: string[]; more: number }

export const MAX_TITLES_PER_SCOPE = 6;
const MAX_TITLE_CHARS = 80;
// Enough for every tool of an ordinary server; a server with more shows each scope's first ones.
const MAX_TOOLS_READ = 200;

// Control, format (invisible, bidi) and line characters would let a title reorder or hide the page's words.
const HIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

export function plainTitle(title: string | null, name: string): string {
  const text = (title ?? '').replace(HIDDEN, '').replace(/\s+/g, ' ').trim() || name.replace(HIDDEN, '');
  const chars = Array.from(text);
  return chars.length > MAX_TITLE_CHARS ? `${chars.slice(0, MAX_TITLE_CHARS - 1).join('')}…` : text;
}

/** The approved tools of `resourceUri` grouped by the scopes they need (a tool needing two is under both). */
export async function approvedToolsByScope(db: Db, resourceUri: string): Promise<Record<string, ScopeTools>> {
  // No prototype: a scope named "__proto__" is just a key.
  const byScope: Record<string, ScopeTools> = Object.create(null) as Record<string, ScopeTools>;
  for (const row of await listApprovedToolTitles(db, resourceUri, MAX_TOOLS_READ)) {
    if (!Array.isArray(row.scopes)) continue;
    const title = plainTitle(row.title, row.name);
    for (const scope of new Set(row.scopes.filter((s): s is string => typeof s === 'string'))) {
      const entry = (byScope[scope] ??= { titles: [], more: 0 });
      if (entry.titles.length < MAX_TITLES_PER_SCOPE) entry.titles.push(title);
      else entry.more += 1;
    }
  }
  return byScope;
}
