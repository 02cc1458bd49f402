// Signing keys, the audit log viewer and the overview through the console and the admin API: rotate
// and retire (with the lifecycle's refusals as 409s), filtered and paged audit events, charted counts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/portal.ts';
import { notesResource } from '../helpers/test-app.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { createAdminTestApp, followConsole, postConsoleForm, type AdminTestApp } from './helpers.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: AdminTestApp;

beforeAll(async () => {
  app = await createAdminTestApp();
  await app.addResource(notesResource(NOTES));
  await connectClient(app, app.browser(), app.user.email, { resource: NOTES, scope: 'notes:read' });
  await flushAuditWrites(); // token.issued is written beside the token response
});
afterAll(async () => { await app?.close(); });

describe('signing keys', () => {
  it('rotates from the console and the API: the new key signs, the old one only verifies, and JWKS serves both', async () => {
    const before = (await app.api().get('/admin/api/keys')).body.keys as { kid: string; alg: string; status: string }[];
    const oldEs256 = before.find((k) => k.alg === 'ES256' && k.status === 'signing')!;
    const browser = await app.adminBrowser();
    expect((await followConsole(browser, await postConsoleForm(browser, '/admin/keys/rotate', { now: 'on' }))).text)
      .toContain('New signing keys added, signing at once: resource servers that fetched the key set in the last 30 seconds may refuse');
    const { rows } = await app.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE event_type = 'keys.rotated' ORDER BY id DESC LIMIT 1`);
    expect(rows[0]!.details).toMatchObject({ actor: app.admin.id });

    const rotated = await app.api().post('/admin/api/keys/rotate').send({ now: true });
    expect(rotated.status).toBe(201);
    expect(rotated.body.kids).toHaveLength(3);
    const after = (await app.api().get('/admin/api/keys')).body.keys as { kid: string; alg: string; status: string }[];
    expect(after.find((k) => k.kid === oldEs256.kid)!.status).toBe('verifying');
    expect(after.find((k) => k.alg === 'ES256' && k.status === 'signing')!.kid).toBe(rotated.body.kids[0]);
    const jwks = (await app.http().get('/jwks')).body.keys.map((k: { kid: string }) => k.kid);
    expect(jwks).toEqual(expect.arrayContaining([oldEs256.kid, ...rotated.body.kids]));
  });

  it('retires a superseded key only when forced before its tokens expire, never the signing key', async () => {
    const keys = (await app.api().get('/admin/api/keys')).body.keys as { kid: string; alg: string; status: string }[];
    const signing = keys.find((k) => k.status === 'signing')!;
    const verifying = keys.find((k) => k.status === 'verifying')!;
    const refusedSigning = await app.api().post(`/admin/api/keys/${signing.kid}/retire`).send({});
    expect(refusedSigning.status).toBe(409);
    expect(refusedSigning.body.error).toBe('signing_key');
    const early = await app.api().post(`/admin/api/keys/${verifying.kid}/retire`).send({});
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('still_verifying');
    expect((await app.api().post('/admin/api/keys/nope/retire').send({})).body.error).toBe('key_not_found');
    expect((await app.api().post(`/admin/api/keys/${verifying.kid}/retire`).send({ force: 'yes' })).status).toBe(400);

    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/keys/retire', { kid: verifying.kid, force: 'on' }));
    expect(page.text).toContain('Key retired');
    expect((await app.http().get('/jwks')).body.keys.map((k: { kid: string }) => k.kid)).not.toContain(verifying.kid);
  });
});

describe('signing keys published ahead', () => {
  type Key = { kid: string; alg: string; status: string; activates_at: string; superseded_at: string | null };
  const listKeys = async () => (await app.api().get('/admin/api/keys')).body.keys as Key[];

  it('a rotation without `now` publishes pending keys with their activation time; the current keys keep signing', async () => {
    const signingBefore = (await listKeys()).filter((k) => k.status === 'signing').map((k) => k.kid);
    const rotated = await app.api().post('/admin/api/keys/rotate').send({});
    expect(rotated.status).toBe(201);
    const activatesAt = Date.parse(rotated.body.activates_at);
    // KEY_PUBLISH_AHEAD_SECONDS defaults to 60, counted on the database clock.
    expect(Math.abs(activatesAt - Date.now() - 60_000)).toBeLessThan(10_000);
    const keys = await listKeys();
    for (const kid of rotated.body.kids as string[]) {
      expect(keys.find((k) => k.kid === kid)).toMatchObject({ status: 'pending', activates_at: rotated.body.activates_at, superseded_at: null });
    }
    expect(keys.filter((k) => k.status === 'signing').map((k) => k.kid)).toEqual(signingBefore);
    // Published at once (this process refreshed after the rotation).
    const jwks = (await app.http().get('/jwks')).body.keys.map((k: { kid: string }) => k.kid);
    expect(jwks).toEqual(expect.arrayContaining(rotated.body.kids));
    const { rows } = await app.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_events WHERE event_type = 'keys.rotated' ORDER BY id DESC LIMIT 1`);
    expect(rows[0]!.details).toMatchObject({ kids: rotated.body.kids, activates_at: rotated.body.activates_at });

    const page = await (await app.adminBrowser()).get('/admin/keys');
    expect(page.text).toContain('Pending');
    expect(page.text).toContain(`datetime="${rotated.body.activates_at}"`);
  });

  it('a pending key is retired only when forced (the rotation is cancelled), and `now` must be a boolean', async () => {
    const pending = (await listKeys()).find((k) => k.status === 'pending')!;
    const refused = await app.api().post(`/admin/api/keys/${pending.kid}/retire`).send({});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('pending_key');
    expect(refused.body.error_description).toContain(pending.activates_at);
    const cancelled = await app.api().post(`/admin/api/keys/${pending.kid}/retire`).send({ force: true });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.key).toMatchObject({ kid: pending.kid, status: 'retired' });
    expect((await app.http().get('/jwks')).body.keys.map((k: { kid: string }) => k.kid)).not.toContain(pending.kid);

    for (const body of [{ now: 'yes' }, { now: 1 }, { ahead: 0 }]) {
      const bad = await app.api().post('/admin/api/keys/rotate').send(body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error).toBe('invalid_request');
    }

    const browser = await app.adminBrowser();
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/keys/rotate'));
    expect(page.text).toContain('New signing keys published: every server signs with them from their activation time');
    // Two left of the API's rotation (one was cancelled above), three of the console's.
    expect((await listKeys()).filter((k) => k.status === 'pending')).toHaveLength(5);
  });

  it('the console offers a pending key one "Cancel rotation" button, whose form cancels it', async () => {
    const pending = (await listKeys()).find((k) => k.status === 'pending')!;
    const browser = await app.adminBrowser();
    const keysPage = await browser.get('/admin/keys');
    const row = keysPage.text.slice(keysPage.text.indexOf(pending.kid), keysPage.text.indexOf('</tr>', keysPage.text.indexOf(pending.kid)));
    expect(row).toContain('Cancel rotation');
    expect(row).not.toMatch(/>Retire</);
    expect(row).toMatch(/<input type="hidden" name="force" value="on">/);
    const page = await followConsole(browser, await postConsoleForm(browser, '/admin/keys/retire', { kid: pending.kid, force: 'on' }));
    expect(page.status).toBe(200);
    expect((await listKeys()).find((k) => k.kid === pending.kid)!.status).toBe('retired');
    expect((await app.http().get('/jwks')).body.keys.map((k: { kid: string }) => k.kid)).not.toContain(pending.kid);
  });
});

describe('the audit log', () => {
  it('filters by type, user, client and time, pages by cursor, and refuses a bad filter with 400', async () => {
    const issued = await app.api().get('/admin/api/audit?type=token.issued');
    expect(issued.status).toBe(200);
    expect(issued.body.events.length).toBeGreaterThan(0);
    expect(issued.body.events.every((e: { type: string }) => e.type === 'token.issued')).toBe(true);
    const clientId = issued.body.events[0].client_id as string;

    const byUser = await app.api().get(`/admin/api/audit?user=${encodeURIComponent(app.user.email.toUpperCase())}`);
    expect(byUser.body.events.length).toBeGreaterThan(0);
    expect(byUser.body.events.every((e: { account_id: string }) => e.account_id === app.user.id)).toBe(true);
    const byClient = await app.api().get(`/admin/api/audit?client=${encodeURIComponent(clientId)}`);
    expect(byClient.body.events.every((e: { client_id: string }) => e.client_id === clientId)).toBe(true);
    const future = await app.api().get('/admin/api/audit?since=2999-01-01T00:00Z');
    expect(future.body.events).toEqual([]);

    const first = await app.api().get('/admin/api/audit?limit=2');
    expect(first.body.events).toHaveLength(2);
    const second = await app.api().get(`/admin/api/audit?limit=2&before=${first.body.next_before}`);
    expect(Number(second.body.events[0].id)).toBeLessThan(Number(first.body.events[1].id));

    const bad = await app.api().get('/admin/api/audit?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error_description).toContain('since');
  });

  it('shows filtered events on the console page, and a bad filter as a 400 with the reason', async () => {
    const browser = await app.adminBrowser();
    const page = await browser.get('/admin/audit?type=consent.granted');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<code>consent.granted</code>');
    expect(page.text).not.toContain('<code>token.issued</code>');
    const bad = await browser.get('/admin/audit?until=not-a-date');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('until: expected a date and time');
  });
});

describe('the overview', () => {
  it('counts tokens and consents over 24 hours and 30 days, as inline SVG charts without inline style', async () => {
    const { body } = await app.api().get('/admin/api/overview');
    expect(body.metrics.tokens_issued.last_24_hours).toBeGreaterThanOrEqual(1);
    expect(body.metrics.consents_granted.last_30_days).toBeGreaterThanOrEqual(1);
    expect(body.metrics.tokens_issued.hourly).toHaveLength(24);
    expect(body.metrics.tokens_issued.daily).toHaveLength(30);
    expect(body.metrics.tokens_issued.hourly.at(-1)).toBe(body.metrics.tokens_issued.last_24_hours);

    const page = await (await app.adminBrowser()).get('/admin');
    expect(page.status).toBe(200);
    expect(page.text.match(/<svg class="chart/g)).toHaveLength(10);
    expect(page.text.match(/<rect /g)).toHaveLength(5 * (24 + 30));
    expect(page.text).not.toMatch(/\sstyle=|<script/);
    expect(page.headers['cache-control']).toBe('no-store');
    // The registered resource has no metadata check yet: it needs attention.
    expect(page.text).toContain('its protected resource metadata has never been checked');
  });
});
