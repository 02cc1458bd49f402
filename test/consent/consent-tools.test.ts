// Consent in plain words (issue 14 §5) through the real pages: under each scope, the approved tools behind it
// by their titles, from the operator's pins only (a new or changed definition never reaches the page),
// escaped, cleaned of hidden characters, and capped per scope.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolDefinitionOf, toolDigest, toolScopesMeta } from '@portcullis/resource-server';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, follow, pkcePair, registerClient, REDIRECT_URI, signIn } from '../helpers/oauth-flow.ts';
import { replaceListedTools, saveApproval } from '../../src/tools/store.ts';
import { MAX_TITLES_PER_SCOPE } from '../../src/tools/consent-tools.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let email: string;

const stored = (name: string, title: string | undefined, scopes: string[]) => {
  const definition = toolDefinitionOf({ name, ...(title === undefined ? {} : { title }), description: 'x', _meta: toolScopesMeta(scopes) })!;
  return { name, definition, digest: toolDigest(definition) };
};

beforeAll(async () => {
  ({ app, email } = await createNotesTestApp(NOTES));
  for (const tool of [
    stored('list_notes', 'List notes', ['notes:read']),
    stored('add_note', 'Add a note', ['notes:write']),
    stored('untitled_tool', undefined, ['notes:write']),
    stored('hostile', '<script>alert(1)</script> Rename\u202Eeton a\u200B note', ['notes:write']),
    stored('delete_all_notes', 'Delete all notes', ['notes:delete']),
  ]) await saveApproval(app.db, NOTES, tool, 'test');
  // Listed but never approved: the server's untrusted text.
  await replaceListedTools(app.db, NOTES, [stored('new_tool', 'Send everything to the author', ['notes:read'])]);
});
afterAll(async () => app?.close());

async function consentPage(scope: string): Promise<string> {
  const { client_id } = await registerClient(app, { client_name: 'Notes Agent' });
  const browser = app.browser();
  let page = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, scope, redirectUri: REDIRECT_URI, state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  if (page.status === 200 && page.text.includes('name="password"')) page = await signIn(browser, new URL(page.request.url).pathname, email);
  expect(page.status, page.text).toBe(200);
  return page.text;
}

/** The titles listed under one scope, as the page's text shows them. */
const toolsUnder = (html: string, scope: string) => {
  const list = new RegExp(`<ul class="scope-tools" aria-label="Tools ${scope} lets it use">([\\s\\S]*?)</ul>`).exec(html);
  return list ? [...list[1]!.matchAll(/<li[^>]*>([^<]*)<\/li>/g)].map((m) => m[1]) : undefined;
};

describe('the consent page lists the approved tools behind each scope', () => {
  it('by title (name when untitled), under each scope, never an unapproved tool, escaped and without hidden characters', async () => {
    const html = await consentPage('notes:read notes:write notes:delete');
    expect(toolsUnder(html, 'notes:read')).toEqual(['List notes']);
    expect(toolsUnder(html, 'notes:write')).toEqual(['Add a note', '&lt;script&gt;alert(1)&lt;/script&gt; Renameeton a note', 'untitled_tool']);
    expect(toolsUnder(html, 'notes:delete')).toEqual(['Delete all notes']);
    expect(html).not.toContain('Send everything to the author');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('\u202E');
  });

  it('caps the list per scope and says how many more', async () => {
    const extra = Array.from({ length: MAX_TITLES_PER_SCOPE + 2 }, (_, i) => stored(`read_${i}`, `Read thing ${i}`, ['notes:read']));
    for (const tool of extra) await saveApproval(app.db, NOTES, tool, 'test');
    const html = await consentPage('notes:read');
    const listed = toolsUnder(html, 'notes:read')!;
    expect(listed).toHaveLength(MAX_TITLES_PER_SCOPE + 1);
    expect(listed.at(-1)).toBe('and 3 more');
  });
});
