// The portal's downstream services over HTTP (token exchange, issue 13 §3): listed per grant, withdrawn by
// their owner only, the withdrawal ending tokens already exchanged; every refusal leaves nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { registerClient as registerOperatorClient } from '../../src/clients/service.ts';
import { allowExchange } from '../../src/exchange/service.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/exchange/schema.ts';
import { connectClient, postAccountForm, signInToPortal } from '../helpers/portal.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const A = 'https://mcp.example.com/mcp';
const B = 'https://calendar.example.com/api';
let app: TestApp;
let server: { clientId: string; clientSecret: string };
let calendar: { clientId: string; clientSecret: string };

beforeAll(async () => {
  app = await createTestApp();
  await app.addResource({ ...notesResource(A), accessTokenFormat: 'opaque' });
  await app.addResource({ uri: B, name: 'Calendar', accessTokenFormat: 'opaque', scopes: [{ scope: 'calendar:read', risk: 'read', description: 'See your events' }] });
  await allowExchange(app.db, { from: A, to: B, scopes: ['calendar:read'] }, CLI_OPERATOR);
  const registered = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Notes MCP server', resource: A }, CLI_OPERATOR);
  server = { clientId: registered.clientId, clientSecret: registered.clientSecret! };
  const api = await registerOperatorClient(app.db, { kind: 'introspection', name: 'Calendar API', resource: B }, CLI_OPERATOR);
  calendar = { clientId: api.clientId, clientSecret: api.clientSecret! };
});
afterAll(async () => { await app?.close(); });

async function personWithGrant() {
  const { email } = await app.addUser();
  const browser = app.browser();
  const connected = await connectClient(app, browser, email, { resource: A, scope: 'notes:read' });
  const refreshed = await app.http().post('/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: connected.refreshToken, client_id: connected.clientId, resource: A });
  expect(refreshed.status).toBe(200);
  expect((await signInToPortal(browser, email)).status).toBe(303);
  return { browser, ...connected, accessToken: refreshed.body.access_token as string };
}

const exchange = (subjectToken: string) => app.http().post('/token').type('form').auth(server.clientId, server.clientSecret)
  .send({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, resource: B });
const introspectAs = (client: { clientId: string; clientSecret: string }, token: string) =>
  app.http().post('/token/introspection').type('form').auth(client.clientId, client.clientSecret).send({ token });

describe('downstream services on /account', () => {
  it('lists the downstream service under the grant; withdrawing refuses the exchange and ends exchanged tokens', async () => {
    const person = await personWithGrant();
    const page = await person.browser.get('/account');
    expect(page.text).toContain('Calls these services for you');
    expect(page.text).toContain(B);
    const exchanged = await exchange(person.accessToken);
    expect(exchanged.status).toBe(200);
    expect((await introspectAs(calendar, exchanged.body.access_token as string)).body).toMatchObject({ active: true, act: { sub: server.clientId } });
    const { rows } = await app.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM oidc_models WHERE model = 'Grant' AND grant_id = $1`, [person.grantId]);
    expect(rows[0]!.n).toBe('1');

    const withdrawn = await postAccountForm(person.browser, '/account/grants/downstream/revoke', { grant_id: person.grantId, from: A, to: B });
    expect(withdrawn.status).toBe(303);
    expect(withdrawn.headers.location).toBe('/account?status=downstream-withdrawn');
    expect((await exchange(person.accessToken)).body.error).toBe('invalid_grant');
    // The exchanged token's Grant is gone with the withdrawal: the token no longer works anywhere.
    expect((await introspectAs(calendar, exchanged.body.access_token as string)).body).toEqual({ active: false });
    // The person's own grant stays: only this downstream service was withdrawn.
    expect((await introspectAs(server, person.accessToken)).body.active).toBe(true);
    expect((await person.browser.get('/account')).text).toContain('withdrawn');
    const [event] = await listAuditEvents(app.db, { type: 'exchange.withdrawn', limit: 1 });
    expect(event).toMatchObject({ account_id: expect.any(String), resource: B, actor_type: 'user' });
    expect(event?.details).toMatchObject({ grant_id: person.grantId, from: A, to: B, exchanged_grants_ended: 1 });

    // Withdrawing again changes nothing and records nothing more.
    expect((await postAccountForm(person.browser, '/account/grants/downstream/revoke', { grant_id: person.grantId, from: A, to: B })).status).toBe(303);
    expect(await listAuditEvents(app.db, { type: 'exchange.withdrawn' })).toHaveLength(1);
  });

  it('someone else\'s grant, an unknown chain, missing fields and a form without csrf are refused; nothing is written', async () => {
    const victim = await personWithGrant();
    const attacker = await personWithGrant();
    const refusals = [
      { grant_id: victim.grantId, from: A, to: B },
      { grant_id: attacker.grantId, from: A, to: 'https://elsewhere.example/api' },
      { grant_id: attacker.grantId, from: B, to: A },
    ];
    for (const fields of refusals) {
      const response = await postAccountForm(attacker.browser, '/account/grants/downstream/revoke', fields);
      expect(response.status, JSON.stringify(fields)).toBe(404);
    }
    expect((await postAccountForm(attacker.browser, '/account/grants/downstream/revoke', { grant_id: attacker.grantId })).status).toBe(400);
    expect((await postAccountForm(attacker.browser, '/account/grants/downstream/revoke', { grant_id: 'x'.repeat(300), from: A, to: B })).status).toBe(400);
    const noCsrf = await attacker.browser.post('/account/grants/downstream/revoke').type('form').send({ grant_id: attacker.grantId, from: A, to: B });
    expect(noCsrf.status).toBe(403);
    const { rows } = await app.db.query(`SELECT 1 FROM exchange_withdrawals WHERE grant_id = ANY($1::text[])`, [[victim.grantId, attacker.grantId]]);
    expect(rows).toEqual([]);
    expect((await exchange(victim.accessToken)).status).toBe(200);
  });

  it('signed out, the form sends the browser to sign in and changes nothing', async () => {
    const response = await postAccountForm(app.browser(), '/account/grants/downstream/revoke', { grant_id: 'g', from: A, to: B });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/account');
  });
});
