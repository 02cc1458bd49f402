// One irreversible action per human yes, as the example notes server sees it with real Portcullis
// tokens: a notes:delete token deletes once; the same token again, or twice in one batch, is a 403 step-up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { approvedAccessToken, callTool, fetchRoutingIssuerTo, rpc, toolText } from './mcp-http.ts';

let app: TestApp;
let notes: NotesServer;
let email: string;
let clientId: string;

beforeAll(async () => {
  app = await createTestApp();
  notes = await startNotesServer({ port: 0, issuer: ISSUER, fetch: fetchRoutingIssuerTo(app.server) });
  await app.addResource(notesResource(notes.url));
  email = (await app.addUser()).email;
  clientId = (await registerClient(app)).client_id;
});
afterAll(async () => {
  await notes?.close();
  await app?.close();
});

/** A token from a fresh consent that ticked notes:delete; the person's notes are reset to `seed`. */
async function freshDeleteToken(seed: string[]) {
  const token = await approvedAccessToken(app, { email, clientId, resource: notes.url, scope: 'notes:read notes:delete' });
  const subject = decodeJwt(token).sub!;
  notes.store.deleteAll(subject);
  for (const note of seed) notes.store.add(subject, note);
  return { token, subject };
}

const deleteAll = (token: string) => callTool(notes.url, token, 'delete_all_notes', { confirm: true });

describe('a token carrying the irreversible notes:delete', () => {
  it('deletes once; the same token again gets 403 insufficient_scope naming notes:delete, and deletes nothing', async () => {
    const { token, subject } = await freshDeleteToken(['a', 'b']);
    const first = await deleteAll(token);
    expect(first.status, first.text).toBe(200);
    expect(toolText(first)).toBe('Deleted 2 notes.');

    notes.store.add(subject, 'written after the deletion');
    const second = await deleteAll(token);
    expect(second.status).toBe(403);
    expect(second.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope", error_description="this token was already used/);
    expect(second.headers.get('www-authenticate')).toContain('scope="notes:read notes:delete"');
    expect(notes.store.list(subject)).toEqual(['written after the deletion']);
    // Its other scopes keep working: only the irreversible use is spent.
    expect(toolText(await callTool(notes.url, token, 'list_notes'))).toBe('1. written after the deletion');
  });

  it('cannot delete twice in one JSON-RPC batch, and the refused batch does not spend it', async () => {
    const { token, subject } = await freshDeleteToken(['kept']);
    const batch = [1, 2].map((id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'delete_all_notes', arguments: { confirm: true } } }));
    const refused = await rpc(notes.url, token, batch);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(notes.store.list(subject)).toEqual(['kept']);
    expect(toolText(await deleteAll(token))).toBe('Deleted 1 notes.');
  });

  it('a new consent gives a new single use', async () => {
    const { token: spent } = await freshDeleteToken(['x']);
    expect((await deleteAll(spent)).status).toBe(200);
    expect((await deleteAll(spent)).status).toBe(403);
    const { token: again } = await freshDeleteToken(['y']);
    expect(toolText(await deleteAll(again))).toBe('Deleted 1 notes.');
  });
});
