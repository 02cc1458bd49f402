// The notes service behind the example MCP server: notes kept in memory per subject (the signed-in
// person), and the MCP server exposing them as three tools, one per risk class (and list_events, downstream).
import { McpServer } from '@modelcontextprotocol/server';
import { toolScopesMeta } from '@portcullis/resource-server';
import { z } from 'zod';

/** The scope each tool needs: the same names `resource add --scope` registers with their risk class. */
export const TOOL_SCOPES = {
  list_notes: ['notes:read'],
  add_note: ['notes:write'],
  delete_all_notes: ['notes:delete'],
  // Registered only with a downstream API configured (server.ts): reading, here and there.
  list_events: ['notes:read'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Registered with risk `irreversible` (`resource add --scope notes:delete=irreversible`): Portcullis puts it
 * in one token per consent, and the kit lets that token make one call needing it.
 */
export const SINGLE_USE_SCOPES = ['notes:delete'];

/** The baseline a client asks for first (RFC 9728 scopes_supported): reading. More is asked for by step-up. */
export const BASELINE_SCOPES = ['notes:read'];

const MAX_NOTES_PER_SUBJECT = 1000;

/** Notes per subject, in memory: gone when the process ends, which is what an example wants. */
export class NotesStore {
  private readonly bySubject = new Map<string, string[]>();

  list(subject: string): readonly string[] {
    return this.bySubject.get(subject) ?? [];
  }

  add(subject: string, text: string): number {
    const notes = this.bySubject.get(subject) ?? [];
    if (notes.length >= MAX_NOTES_PER_SUBJECT) throw new Error(`at most ${MAX_NOTES_PER_SUBJECT} notes per person`);
    notes.push(text);
    this.bySubject.set(subject, notes);
    return notes.length;
  }

  deleteAll(subject: string): number {
    const count = this.list(subject).length;
    this.bySubject.delete(subject);
    return count;
  }
}

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/** The downstream call list_events makes, bound to this request's token (server.ts: token exchange, then GET). */
export type ListEvents = () => Promise<{ ok: true; events: string[]; actor: string | null } | { ok: false; error: string }>;

/** Wraps each tool's handler (governance.ts: the kit's `recordedTool`, which records the call and caps its result). */
export type ToolWrapper = <A extends unknown[], R>(tool: string, handler: (...params: A) => R | Promise<R>) => (...params: A) => R | Promise<R>;

export interface NotesMcpOptions {
  /** Registers list_events, which calls this (only with a downstream API configured). */
  listEvents?: ListEvents;
  wrapTool?: ToolWrapper;
}

/**
 * One MCP server instance for one request, bound to the subject of the token that made it. The tools
 * do not check scopes themselves: the HTTP layer did, before the request reached them (server.ts).
 */
export function createNotesMcpServer(store: NotesStore, subject: string, options: NotesMcpOptions = {}): McpServer {
  const server = new McpServer({ name: 'portcullis-notes-example', version: '1.0.0' });
  const wrap: ToolWrapper = options.wrapTool ?? ((_tool, handler) => handler);

  server.registerTool('list_notes', {
    title: 'List notes',
    description: 'Lists your notes, oldest first.',
    inputSchema: z.object({ limit: z.number().int().min(1).max(100).optional().describe('at most this many notes') }),
    annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
    // Reported through tools/list, so Portcullis's inventory knows the scope (issue 14).
    _meta: toolScopesMeta(TOOL_SCOPES.list_notes),
  }, wrap('list_notes', ({ limit }: { limit?: number | undefined }) => {
    const notes = store.list(subject).slice(0, limit ?? 100);
    return { ...text(notes.length ? notes.map((n, i) => `${i + 1}. ${n}`).join('\n') : 'You have no notes.'), structuredContent: { notes } };
  }));

  server.registerTool('add_note', {
    title: 'Add a note',
    description: 'Adds a note to your notes.',
    inputSchema: z.object({ text: z.string().trim().min(1).max(2000).describe('the note') }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    _meta: toolScopesMeta(TOOL_SCOPES.add_note),
  }, wrap('add_note', ({ text: note }: { text: string }) => text(`Added note ${store.add(subject, note)}.`)));

  server.registerTool('delete_all_notes', {
    title: 'Delete all notes',
    description: 'Deletes every note you have. This cannot be undone.',
    // A confirmation the model must state explicitly, so a stray call with empty arguments does nothing.
    inputSchema: z.object({ confirm: z.literal(true).describe('must be true: deletion cannot be undone') }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    _meta: toolScopesMeta(TOOL_SCOPES.delete_all_notes),
  }, wrap('delete_all_notes', (_args: { confirm: true }) => text(`Deleted ${store.deleteAll(subject)} notes.`)));

  const { listEvents } = options;
  if (listEvents) {
    server.registerTool('list_events', {
      title: 'List calendar events',
      description: 'Lists your events from the calendar API, which this server calls for you with a token of its own.',
      inputSchema: z.object({}),
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: true },
    _meta: toolScopesMeta(TOOL_SCOPES.list_events),
    }, wrap('list_events', async (_args: Record<string, never>) => {
      const answer = await listEvents();
      if (!answer.ok) return { ...text(`The calendar could not be reached: ${answer.error}`), isError: true };
      return { ...text(answer.events.length ? answer.events.join('\n') : 'You have no events.'), structuredContent: { events: answer.events, actor: answer.actor } };
    }));
  }

  return server;
}
