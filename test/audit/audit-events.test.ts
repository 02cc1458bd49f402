// Every audit event type the issue names is written, with its actor, by the action that causes it
// (HTTP flows through the real app, operator actions through the CLI's commands), and logged.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { listAuditEvents, type StoredAuditEvent } from '../../src/audit/store.ts';
import { setLogDestination, setLogLevel } from '../../src/log.ts';
import { createTestApp, notesResource, PASSWORD, type TestApp } from '../helpers/test-app.ts';
import {
  authorizeQuery, csrfTokenOf, decide, exchangeCode, follow, obtainCode, pkcePair, refresh, registerClient, signIn,
} from '../helpers/oauth-flow.ts';
import { connectClient, postAccountForm, signInToPortal } from '../helpers/portal.ts';
import { runCommand } from '../helpers/cli-in-process.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
let app: TestApp;
const logLines: Record<string, unknown>[] = [];
let email: string;
let clientId: string;

async function eventsOf(type: string): Promise<StoredAuditEvent[]> {
  await flushAuditWrites();
  return listAuditEvents(app.db, { type: type as never, limit: 1000 });
}

beforeAll(async () => {
  setLogLevel('info');
  setLogDestination(new Writable({ write(chunk, _encoding, done) { logLines.push(JSON.parse(String(chunk))); done(); } }));
  // No grace window: the second use of a refresh token is a replay at once.
  app = await createTestApp({ REFRESH_GRACE_SECONDS: '0', LOGIN_MAX_FAILURES_PER_EMAIL: '2' });
  await app.addResource(notesResource(RESOURCE));
  email = (await app.addUser()).email;

  // One person's day: a wrong password, a sign-in, a consent, a code exchange, a refresh, a replay.
  const browser = app.browser();
  clientId = (await registerClient(app)).client_id;
  const pkce = pkcePair();
  const page = await follow(browser, authorizeQuery({ clientId, resource: RESOURCE, scope: 'notes:read', state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  const interaction = new URL(page.request.url).pathname;
  const csrf = csrfTokenOf(page.text);
  expect((await browser.post(`${interaction}/login`).type('form').send({ email, password: 'wrong password!', csrf })).status).toBe(401);
  const { code, verifier } = await obtainCode(app, browser, email, { clientId, resource: RESOURCE, scope: 'notes:read' });
  const tokens = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier, resource: RESOURCE });
  expect(tokens.status).toBe(200);
  const refreshed = await refresh(app, { client_id: clientId, refresh_token: tokens.body.refresh_token });
  expect(refreshed.status).toBe(200);
  expect((await refresh(app, { client_id: clientId, refresh_token: tokens.body.refresh_token })).status).toBe(400);

  // A denial by someone else, and a throttled sign-in (2 failures allowed per email).
  const other = app.browser();
  const otherEmail = (await app.addUser()).email;
  const denyPage = await follow(other, authorizeQuery({ clientId, resource: RESOURCE, scope: 'notes:read', state: 'd', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  const denyInteraction = new URL(denyPage.request.url).pathname;
  const consentPage = await signIn(other, denyInteraction, otherEmail);
  await decide(other, new URL(consentPage.request.url).pathname, 'deny');
  for (let attempt = 0; attempt < 3; attempt += 1) await signInToPortal(app.browser(), 'nobody@example.com', 'wrong password!');

  // Portal sign-outs (this browser, everywhere), and a grant revoked by its client (RFC 7009).
  const portal = app.browser();
  expect((await signInToPortal(portal, email)).status).toBe(303);
  expect((await postAccountForm(portal, '/account/logout')).status).toBe(303);
  expect((await signInToPortal(portal, email)).status).toBe(303);
  expect((await postAccountForm(portal, '/account/sessions/revoke')).status).toBe(303);
  const connected = await connectClient(app, browser, email, { resource: RESOURCE, scope: 'notes:read' });
  const revocation = await app.http().post('/token/revocation').type('form')
    .send({ client_id: connected.clientId, token: connected.refreshToken, token_type_hint: 'refresh_token' });
  expect(revocation.status).toBe(200);

  // Operator actions through the CLI's own commands.
  await runCommand(app.db, ['user', 'add', '--email', 'ops@example.com', '--password', 'a long operator passphrase']);
  await runCommand(app.db, ['resource', 'add', '--uri', 'https://tools.example.com/mcp', '--name', 'Tools', '--scope', 'tools:read=read', '--no-check']);
  const added = await runCommand(app.db, ['client', 'add', '--name', 'Ops client', '--redirect-uri', 'https://app.example.com/cb']);
  await runCommand(app.db, ['client', 'disable', `--id=${String(added.client_id)}`]);
  await runCommand(app.db, ['client', 'enable', `--id=${String(added.client_id)}`]);
  await runCommand(app.db, ['client', 'delete', `--id=${String(added.client_id)}`]);
  await runCommand(app.db, ['keys', 'rotate']);
  await flushAuditWrites();
});

afterAll(async () => {
  setLogDestination(undefined);
  setLogLevel('warn');
  await app?.close();
});

describe('audit events', () => {
  it.each([
    // type, outcome, actor type, what else the row must say
    ['login.failed', 'failure', 'user', (e: StoredAuditEvent) => e.details.reason === 'bad_credentials' && e.ip !== null],
    ['login.throttled', 'failure', 'user', () => true],
    ['login.succeeded', 'success', 'user', (e: StoredAuditEvent) => e.account_id !== null && e.request_id !== null],
    ['consent.granted', 'success', 'user', (e: StoredAuditEvent) => e.scopes === 'notes:read' && e.resource === RESOURCE],
    ['consent.denied', 'failure', 'user', (e: StoredAuditEvent) => e.client_id === clientId],
    ['token.issued', 'success', 'client', (e: StoredAuditEvent) => e.details.grant_type === 'authorization_code' && e.resource === RESOURCE && e.scopes === 'notes:read'],
    ['refresh_token.replay_detected', 'failure', 'system', (e: StoredAuditEvent) => typeof e.details.grant_id === 'string'],
    ['grant.revoked', 'success', 'client', (e: StoredAuditEvent) => e.details.revoked_by === 'client'],
    ['session.ended', 'success', 'user', (e: StoredAuditEvent) => e.account_id !== null],
    ['account.created', 'success', 'operator', (e: StoredAuditEvent) => e.actor_id === 'cli'],
    ['resource.registered', 'success', 'operator', (e: StoredAuditEvent) => e.resource === 'https://tools.example.com/mcp'],
    ['client.registered', 'success', 'operator', () => true],
    ['client.disabled', 'success', 'operator', () => true],
    ['client.enabled', 'success', 'operator', () => true],
    ['client.deleted', 'success', 'operator', () => true],
    ['keys.rotated', 'success', 'operator', (e: StoredAuditEvent) => Array.isArray(e.details.kids) || e.details.kid !== undefined],
  ] as const)('%s is written (outcome %s, actor %s)', async (type, outcome, actorType, check) => {
    const events = await eventsOf(type);
    const matching = events.filter((event) => event.outcome === outcome && event.actor_type === actorType && check(event));
    expect(matching.length, JSON.stringify(events, null, 1)).toBeGreaterThan(0);
  });

  it('records a refresh as token.issued with its grant type, and both portal sign-outs', async () => {
    expect((await eventsOf('token.issued')).some((e) => e.details.grant_type === 'refresh_token')).toBe(true);
    const scopes = (await eventsOf('session.ended')).map((e) => e.details.scope).sort();
    expect(scopes).toEqual(['everywhere', 'this_browser']);
  });

  it('never stores a token, code or password in any row', async () => {
    const { rows } = await app.db.query<{ row: string }>('SELECT row_to_json(a)::text AS row FROM audit_events a');
    const all = rows.map((r) => r.row).join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain('wrong password!');
    expect(all).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT
  });

  it('writes every event as a structured log line too', async () => {
    const { rows } = await app.db.query<{ event_type: string }>('SELECT DISTINCT event_type FROM audit_events');
    const logged = new Set(logLines.filter((line) => line.msg === 'audit event').map((line) => (line.audit as { type: string }).type));
    for (const { event_type: type } of rows) expect(logged, type).toContain(type);
    const line = logLines.find((l) => l.msg === 'audit event' && (l.audit as { type: string }).type === 'token.issued')!;
    expect(line).toMatchObject({ level: 'info', audit: { actor_type: 'client', client_id: clientId, resource: RESOURCE } });
    expect(typeof line.time).toBe('string');
  });
});
