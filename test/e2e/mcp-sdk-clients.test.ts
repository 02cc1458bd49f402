// The MCP TypeScript SDK's own clients (v2 and v1) against Portcullis and the example notes server:
// 401 → protected resource metadata → AS metadata → dynamic registration → PKCE + resource →
// sign-in + consent → tools → 403 insufficient_scope → step-up consent showing the delta → write works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth as authV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { createLiveTestApp, type LiveTestApp } from '../helpers/live-app.ts';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { approveAllOffered, Person } from './person.ts';
import { authorizeThenFinish, ScriptedOAuthProvider } from './scripted-oauth-provider.ts';

const NOTES_SCOPES = [
  { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
  { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  { scope: 'notes:delete', risk: 'irreversible' as const, description: 'Delete all your notes' },
];
const REDIRECT = 'http://127.0.0.1:43117/callback';

let portcullis: LiveTestApp;
let notes: NotesServer;
let email: string;
beforeAll(async () => {
  portcullis = await createLiveTestApp();
  notes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: notes.url, name: 'Notes', scopes: NOTES_SCOPES });
  email = (await portcullis.addUser()).email;
});
afterAll(async () => {
  await notes?.close();
  await portcullis?.close();
});

const toolText = (result: unknown) => JSON.stringify((result as { content?: unknown }).content ?? result);

/** Runs `action`, which must stop for an authorization; then lets the transport redeem the code. */
const expectAuthorizationThenFinish = (action: () => Promise<unknown>, oauth: ScriptedOAuthProvider,
  finish: (callback: URL) => Promise<void>) => authorizeThenFinish(portcullis.issuer, action, oauth, finish);

describe('MCP SDK v2 client (@modelcontextprotocol/client)', () => {
  it('authorizes, uses the read tool, and steps up to write through a consent that shows only the delta', async () => {
    const person = new Person(portcullis.issuer, email);
    const oauth = new ScriptedOAuthProvider(person, REDIRECT);
    const open = () => new TransportV2(new URL(notes.url), { authProvider: oauth.asV2() });

    const first = open();
    await expectAuthorizationThenFinish(() => new ClientV2({ name: 'e2e-v2', version: '1.0.0' }).connect(first), oauth,
      (callback) => first.finishAuth(callback.searchParams));
    const authorization = oauth.authorizationUrls[0]!;
    expect(authorization.searchParams.get('resource')).toBe(notes.url);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(person.consents[0]).toMatchObject({ offered: ['notes:read'], checked: ['notes:read'] });
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ aud: notes.url, scope: 'notes:read', iss: portcullis.issuer });

    const transport = open();
    const client = new ClientV2({ name: 'e2e-v2', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add_note', 'delete_all_notes', 'list_notes']);
    expect(toolText(await client.callTool({ name: 'list_notes', arguments: {} }))).toContain('You have no notes.');

    // add_note needs notes:write: 403 insufficient_scope → the client re-authorizes for the union.
    oauth.choose = approveAllOffered;
    await expectAuthorizationThenFinish(() => client.callTool({ name: 'add_note', arguments: { text: 'from v2' } }), oauth,
      (callback) => transport.finishAuth(callback.searchParams));
    const stepUp = person.consents.at(-1)!;
    expect(stepUp.offered).toEqual(['notes:write']);
    expect(stepUp.checked).toEqual([]);
    expect(stepUp.html).toMatch(/Already allowed, kept as is[\s\S]*<code>notes:read<\/code>/);
    expect(decodeJwt(oauth.accessToken).scope).toBe('notes:read notes:write');

    const after = new ClientV2({ name: 'e2e-v2', version: '1.0.0' });
    await after.connect(open());
    expect(toolText(await after.callTool({ name: 'add_note', arguments: { text: 'from v2' } }))).toContain('Added note 1');
    expect(toolText(await after.callTool({ name: 'list_notes', arguments: {} }))).toContain('from v2');
    await after.close();
    await client.close();
  });
});

describe('MCP SDK v1 client (@modelcontextprotocol/sdk)', () => {
  it('authorizes, uses the read tool, and steps up to write', async () => {
    const person = new Person(portcullis.issuer, (await portcullis.addUser()).email);
    const oauth = new ScriptedOAuthProvider(person, REDIRECT);
    const open = () => new TransportV1(new URL(notes.url), { authProvider: oauth.asV1() });

    const first = open();
    await expectAuthorizationThenFinish(() => new ClientV1({ name: 'e2e-v1', version: '1.0.0' }).connect(first), oauth,
      (callback) => first.finishAuth(callback.searchParams.get('code')!));
    expect(oauth.authorizationUrls[0]!.searchParams.get('resource')).toBe(notes.url);
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ aud: notes.url, scope: 'notes:read' });

    const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
    const transport = open();
    await client.connect(transport);
    expect(toolText(await client.callTool({ name: 'list_notes', arguments: {} }))).toContain('You have no notes.');

    // v1 answers a 403 by refreshing first (same scopes, so still 403) and then gives up with a 403
    // error. The application then runs the SDK's auth() for the challenged scope itself, as MCP
    // clients do: exactly that scope; Portcullis adds what is already granted (the union).
    oauth.choose = approveAllOffered;
    await expect(client.callTool({ name: 'add_note', arguments: { text: 'from v1' } })).rejects.toThrow(/403/);
    oauth.invalidateCredentials('tokens');
    expect(await authV1(oauth.asV1(), { serverUrl: notes.url, scope: 'notes:write' })).toBe('REDIRECT');
    expect(oauth.authorizationUrls.at(-1)!.searchParams.get('scope')).toBe('notes:write');
    expect(await authV1(oauth.asV1(), { serverUrl: notes.url, authorizationCode: oauth.callback!.searchParams.get('code')! }))
      .toBe('AUTHORIZED');
    const stepUp = person.consents.at(-1)!;
    expect(stepUp.offered).toEqual(['notes:write']);
    expect(decodeJwt(oauth.accessToken).scope).toBe('notes:read notes:write');

    const after = new ClientV1({ name: 'e2e-v1', version: '1.0.0' });
    await after.connect(open());
    expect(toolText(await after.callTool({ name: 'add_note', arguments: { text: 'from v1' } }))).toContain('Added note');
    expect(toolText(await after.callTool({ name: 'list_notes', arguments: {} }))).toContain('from v1');
    await after.close();
    await client.close();
  });
});
