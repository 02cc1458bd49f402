// The MCP TypeScript SDK's client (v2) through a federated sign-in (issue 12): 401 → discovery → dynamic
// registration → the person presses "Continue with Acme SSO", signs in at the organisation's identity provider
// (a real oidc-provider on loopback) → consent → tools, as the federated identity's account. Under a policy
// that lets the person's group read only, the token carries read and a write call is refused (insufficient_scope).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { Client, InsufficientScopeError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { addPolicy } from '../../src/policies/service.ts';
import { createLiveTestApp, type LiveTestApp } from '../helpers/live-app.ts';
import { addUpstream } from '../helpers/federation-flow.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { startNotesServer, type NotesServer } from '../../examples/notes-mcp-server/server.ts';
import { FederatedPerson } from './federated-person.ts';
import { approveAllOffered } from './person.ts';
import { authorizeThenFinish, ScriptedOAuthProvider } from './scripted-oauth-provider.ts';

const NOTES_SCOPES = [
  { scope: 'notes:read', risk: 'read' as const, description: 'Read your notes' },
  { scope: 'notes:write', risk: 'write' as const, description: 'Add notes' },
  { scope: 'notes:delete', risk: 'irreversible' as const, description: 'Delete all your notes' },
];
const REDIRECT = 'http://127.0.0.1:43119/callback';

let portcullis: LiveTestApp;
let idp: UpstreamIdp;
let notes: NotesServer;
let policed: NotesServer;

beforeAll(async () => {
  portcullis = await createLiveTestApp();
  idp = await startUpstreamIdp({
    redirectUris: [`${portcullis.issuer}/federation/callback`],
    users: [
      { sub: 'u-alice', email: 'alice@acme.test', email_verified: true, name: 'Alice', groups: ['eng'] },
      { sub: 'u-carl', email: 'carl@acme.test', email_verified: true, groups: ['contractors'] },
    ],
  });
  await addUpstream(portcullis, idp, { name: 'acme', displayName: 'Acme SSO', domains: ['acme.test'] }, portcullis.issuer);
  notes = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: notes.url, name: 'Notes', scopes: NOTES_SCOPES });
  // A second notes server, the one the organisation's policies govern.
  policed = await startNotesServer({ port: 0, issuer: portcullis.issuer });
  await portcullis.addResource({ uri: policed.url, name: 'Team notes', scopes: NOTES_SCOPES });
}, 60_000);
afterAll(async () => {
  await policed?.close();
  await notes?.close();
  await idp?.close();
  await portcullis?.close();
});

const toolText = (result: unknown) => JSON.stringify((result as { content?: unknown }).content ?? result);

const identityOf = async (subject: string) => (await portcullis.db.query<{ provider: string; account_id: string; email: string; password_hash: string | null; account_email: string }>(
  `SELECT p.name AS provider, f.account_id, f.email, a.password_hash, a.email AS account_email
   FROM federated_identities f JOIN identity_providers p ON p.id = f.provider_id JOIN accounts a ON a.id = f.account_id
   WHERE f.subject = $1`, [subject])).rows;

function sdkClient(person: FederatedPerson, server: NotesServer) {
  const oauth = new ScriptedOAuthProvider(person, REDIRECT);
  const open = (options: { onInsufficientScope?: 'throw' } = {}) =>
    new StreamableHTTPClientTransport(new URL(server.url), { authProvider: oauth.asV2(), ...options });
  return { oauth, open, client: () => new Client({ name: 'e2e-federated', version: '1.0.0' }) };
}

describe('an MCP SDK client whose person signs in with their organisation\'s identity provider', () => {
  it('authorizes through "Continue with Acme SSO", creates the account of the federated identity, and calls a tool as it', async () => {
    const person = new FederatedPerson(portcullis.issuer, idp, 'Acme SSO', 'u-alice');
    const { oauth, open, client } = sdkClient(person, notes);

    const first = open();
    await authorizeThenFinish(portcullis.issuer, () => client().connect(first), oauth, (callback) => first.finishAuth(callback.searchParams));
    expect(oauth.authorizationUrls[0]!.searchParams.get('resource')).toBe(notes.url);
    expect(oauth.authorizationUrls[0]!.searchParams.get('code_challenge_method')).toBe('S256');
    // The browser went to the identity provider once and came back to our callback with its RFC 9207 `iss`.
    expect(person.upstreamAnswers).toHaveLength(1);
    expect(person.upstreamAnswers[0]!.pathname).toBe('/federation/callback');
    expect(person.upstreamAnswers[0]!.searchParams.get('iss')).toBe(idp.issuer);
    expect(person.consents[0]).toMatchObject({ offered: ['notes:read'], checked: ['notes:read'] });

    // The account is the identity (acme, u-alice), made on this first sign-in, with no password here.
    const identities = await identityOf('u-alice');
    expect(identities).toHaveLength(1);
    expect(identities[0]).toMatchObject({ provider: 'acme', email: 'alice@acme.test', account_email: 'alice@acme.test', password_hash: null });
    const accountId = identities[0]!.account_id;
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ sub: accountId, aud: notes.url, scope: 'notes:read', iss: portcullis.issuer });
    await flushAuditWrites();
    const login = (await listAuditEvents(portcullis.db, { type: 'login.succeeded' })).find((e) => e.account_id === accountId);
    expect(login?.details).toMatchObject({ via: 'federation', provider: 'acme', created: true });

    // The notes server serves that account: a note kept for it comes back through the tool.
    notes.store.add(accountId, 'Written for the federated Alice');
    const connected = client();
    await connected.connect(open());
    const { tools } = await connected.listTools();
    expect(tools.map((t) => t.name)).toContain('list_notes');
    expect(toolText(await connected.callTool({ name: 'list_notes', arguments: {} }))).toContain('1. Written for the federated Alice');
    await connected.close();
  });

  it('under a policy letting the person\'s group read only: the step-up gets read alone, and the server refuses the write tool', async () => {
    const readOnly = await addPolicy(portcullis.db, { resource: policed.url, claim: 'groups=contractors', maxRisk: 'read' }, CLI_OPERATOR);
    await addPolicy(portcullis.db, { resource: policed.url, claim: 'groups=ops', maxRisk: 'irreversible' }, CLI_OPERATOR);
    const person = new FederatedPerson(portcullis.issuer, idp, 'Acme SSO', 'u-carl');
    const { oauth, open, client } = sdkClient(person, policed);
    oauth.choose = approveAllOffered;

    const first = open();
    await authorizeThenFinish(portcullis.issuer, () => client().connect(first), oauth, (callback) => first.finishAuth(callback.searchParams));
    expect(person.consents[0]!.offered).toEqual(['notes:read']);
    const [identity] = await identityOf('u-carl');
    expect(identity).toMatchObject({ provider: 'acme', account_email: 'carl@acme.test' });
    expect(decodeJwt(oauth.accessToken)).toMatchObject({ sub: identity!.account_id, aud: policed.url, scope: 'notes:read' });

    // add_note → 403 insufficient_scope → the SDK asks for read and write (with prompt=consent); the policy
    // withholds write, so the page offers nothing new, says why write stays off, and the code carries read alone.
    const transport = open();
    const stepping = client();
    await stepping.connect(transport);
    await authorizeThenFinish(portcullis.issuer, () => stepping.callTool({ name: 'add_note', arguments: { text: 'contractor write' } }), oauth,
      (callback) => transport.finishAuth(callback.searchParams));
    expect(oauth.authorizationUrls.at(-1)!.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    const stepUp = person.consents.at(-1)!;
    expect(stepUp.offered).toEqual([]);
    expect(stepUp.html).toMatch(/Already allowed, kept as is[\s\S]*<code>notes:read<\/code>/);
    expect(stepUp.html).toMatch(/Not yours to allow[\s\S]*<code>notes:write<\/code>/);
    expect(stepUp.html).toContain(`lets you approve at most read access here (groups=contractors, policy ${readOnly.id}); this permission is write.`);
    // Still signed in here: the step-up did not send the person to the identity provider again.
    expect(person.upstreamAnswers).toHaveLength(1);
    expect(decodeJwt(oauth.accessToken).scope).toBe('notes:read');
    await flushAuditWrites();
    const withheld = (await listAuditEvents(portcullis.db, { type: 'policy.scope_withheld' })).filter((e) => e.account_id === identity!.account_id);
    expect(withheld.map((e) => e.scopes)).toContain('notes:write');
    expect(withheld.find((e) => e.scopes === 'notes:write')?.details).toMatchObject({
      providers: ['acme'], policy_id: readOnly.id, claim: 'groups', value: 'contractors', max_risk: 'read',
    });

    // With that token the server refuses the write tool with insufficient_scope, and reading works.
    const strict = client();
    await strict.connect(open({ onInsufficientScope: 'throw' }));
    const refused = await strict.callTool({ name: 'add_note', arguments: { text: 'contractor write' } }).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(InsufficientScopeError);
    // The challenge names what the call needs (the kit lists the token's scopes with it, RFC 6750 §3.1).
    expect((refused as InsufficientScopeError).requiredScope?.split(' ')).toContain('notes:write');
    expect(policed.store.list(identity!.account_id)).toEqual([]);
    expect(toolText(await strict.callTool({ name: 'list_notes', arguments: {} }))).toContain('You have no notes.');
    await strict.close();
    await stepping.close();
  });
});
