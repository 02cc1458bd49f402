// `resource allow-exchange` / `deny-exchange` / `exchanges` through the real CLI: the chain stored (0022) and
// audited with the CLI as operator, and each refusal (unknown resource, undeclared or irreversible scope, self, no chain).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { findExchangeChain } from '../../src/exchange/store.ts';
import { createSandbox, parseJsonOutput, STACK_FRAME, type Sandbox } from './harness.ts';

const NOTES = 'https://notes.example.com/mcp';
const CALENDAR = 'https://calendar.example.com/api';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
  for (const [uri, name, scopes] of [
    [NOTES, 'Notes', ['notes:read=read']],
    [CALENDAR, 'Calendar', ['calendar:read=read', 'calendar:write=write', 'calendar:purge=irreversible']],
  ] as const) {
    const added = await sandbox.cli(['resource', 'add', '--uri', uri, '--name', name, ...scopes.flatMap((s) => ['--scope', s]), '--no-check']);
    expect(added.code).toBe(0);
  }
});
afterAll(async () => { await sandbox.cleanup(); });

const chainRow = () => sandbox.withDb((db) => findExchangeChain(db, NOTES, CALENDAR));

describe('resource allow-exchange', () => {
  it('stores the chain with its scopes (URIs as typed, leniently), audits it with the CLI as actor, and lists it', async () => {
    const result = await sandbox.cli(['resource', 'allow-exchange', '--from', 'https://NOTES.example.com/mcp/', '--to', CALENDAR,
      '--scope', 'calendar:read', '--json']);
    expect(result.code).toBe(0);
    expect(parseJsonOutput(result)).toEqual({ exchange: { from: NOTES, to: CALENDAR, scopes: ['calendar:read'], created_at: expect.any(String) } });
    expect((await chainRow())?.scopes).toEqual(['calendar:read']);
    const [event] = await sandbox.withDb((db) => listAuditEvents(db, { type: 'exchange.allowed' }));
    expect(event).toMatchObject({ actor_type: 'operator', actor_id: 'cli', resource: CALENDAR, scopes: 'calendar:read', details: { from: NOTES, to: CALENDAR } });

    const listed = parseJsonOutput(await sandbox.cli(['resource', 'exchanges', '--json']));
    expect(listed).toEqual({ exchanges: [{ from: NOTES, to: CALENDAR, scopes: ['calendar:read'], created_at: expect.any(String) }] });
  });

  it('replaces the scopes of an existing chain and audits what they were', async () => {
    const result = await sandbox.cli(['resource', 'allow-exchange', '--from', NOTES, '--to', CALENDAR, '--scope', 'calendar:read', '--scope', 'calendar:write']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Allowed ${NOTES} to exchange tokens for ${CALENDAR}`);
    expect((await chainRow())?.scopes).toEqual(['calendar:read', 'calendar:write']);
    const [event] = await sandbox.withDb((db) => listAuditEvents(db, { type: 'exchange.allowed' }));
    expect(event?.details).toMatchObject({ scopes_before: 'calendar:read' });
  });

  it.each([
    ['an irreversible scope', ['--from', NOTES, '--to', CALENDAR, '--scope', 'calendar:purge'], /irreversible/, 1],
    ['a scope the target does not declare', ['--from', NOTES, '--to', CALENDAR, '--scope', 'notes:read'], /declares no scope "notes:read"/, 1],
    ['an unregistered target', ['--from', NOTES, '--to', 'https://nowhere.example.com', '--scope', 'x'], /no resource is registered/, 1],
    ['a resource to itself', ['--from', CALENDAR, '--to', CALENDAR, '--scope', 'calendar:read'], /not for itself/, 1],
    ['no scope', ['--from', NOTES, '--to', CALENDAR], /--scope: name at least one scope/, 2],
  ])('refuses %s, with one line and nothing changed', async (_label, args, message, code) => {
    const before = await chainRow();
    const eventsBefore = (await sandbox.withDb((db) => listAuditEvents(db, { type: 'exchange.allowed' }))).length;
    const result = await sandbox.cli(['resource', 'allow-exchange', ...args]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(await chainRow()).toEqual(before);
    expect((await sandbox.withDb((db) => listAuditEvents(db, { type: 'exchange.allowed' }))).length).toBe(eventsBefore);
  });
});

describe('resource deny-exchange', () => {
  it('removes the chain and audits it; denying again says there is none', async () => {
    const result = await sandbox.cli(['resource', 'deny-exchange', '--from', NOTES, '--to', CALENDAR, '--json']);
    expect(result.code).toBe(0);
    expect(parseJsonOutput(result)).toEqual({ denied: { from: NOTES, to: CALENDAR } });
    expect(await chainRow()).toBeUndefined();
    const [event] = await sandbox.withDb((db) => listAuditEvents(db, { type: 'exchange.denied' }));
    expect(event).toMatchObject({ actor_type: 'operator', actor_id: 'cli', resource: CALENDAR, details: { from: NOTES, to: CALENDAR } });

    const again = await sandbox.cli(['resource', 'deny-exchange', '--from', NOTES, '--to', CALENDAR]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no exchange from .* is allowed/);
    expect((await sandbox.withDb((db) => listAuditEvents(db, { type: 'exchange.denied' }))).length).toBe(1);
  });
});
