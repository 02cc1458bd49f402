// An authorization step's writes are held and sent as one statement before its redirect leaves
// (src/oidc/held-model-writes.ts): what the next request of the flow needs is in the database the moment
// the response arrives, a refused consent answer writes nothing, and of several writes to one row in a step
// the last one is what is stored.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, csrfTokenOf, pathOf, pkcePair, registerClient, signIn } from '../helpers/oauth-flow.ts';
import { flushHeldModelWrites, holdingModelWrites, holdModelWrite } from '../../src/oidc/held-model-writes.ts';
import { requestScope } from '../../src/request/scope.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let email: string;

beforeAll(async () => {
  ({ app, email } = await createNotesTestApp());
});
afterAll(async () => app?.close());

const rowOf = async (model: string, id: string) =>
  (await app.db.query<{ payload: Record<string, unknown> }>('SELECT payload FROM oidc_models WHERE model = $1 AND id = $2', [model, id])).rows[0];
const auditCount = async (type: string, clientId: string) =>
  (await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE event_type = $1 AND client_id = $2', [type, clientId])).rows[0]!.n;
const uidOf = (location: string) => /\/(?:interaction|auth)\/([\w-]+)/.exec(location)![1]!;

/** A signed-in browser at the consent page of a fresh authorization; returns its interaction path. */
async function atConsentPage(clientId: string) {
  const browser = app.browser();
  const first = await browser.get(authorizeQuery({ clientId, resource: NOTES, scope: 'notes:read', state: 's', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
  expect(first.status).toBe(303);
  // The interaction the redirect names is stored when the redirect arrives.
  expect(await rowOf('Interaction', uidOf(first.headers.location as string))).toBeDefined();
  const consent = await signIn(browser, pathOf(first.headers.location as string), email);
  expect(consent.text).toContain('name="decision"');
  return { browser, interactionPath: new URL(consent.request.url).pathname, page: consent.text };
}

describe('an authorization step writes before its redirect leaves', () => {
  it('the interaction a GET /auth redirects to, the consent answer and the code are stored when each response arrives', async () => {
    const { client_id: clientId } = await registerClient(app);
    const { browser, interactionPath, page } = await atConsentPage(clientId);
    const uid = uidOf(interactionPath);

    const answer = await browser.post(`${interactionPath}/confirm`).type('form')
      .send(new URLSearchParams({ decision: 'approve', scope: 'notes:read', csrf: csrfTokenOf(page) }).toString());
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toMatch(new RegExp(`/auth/${uid}$`));
    // Read at once, nothing awaited in between: the grant, the interaction's result and the audit row.
    const interaction = await rowOf('Interaction', uid);
    const grantId = (interaction!.payload.result as { consent: { grantId: string } }).consent.grantId;
    expect((await rowOf('Grant', grantId))!.payload).toMatchObject({ clientId, resources: { [NOTES]: 'notes:read' } });
    expect(await auditCount('consent.granted', clientId)).toBe(1);

    const resumed = await browser.get(pathOf(answer.headers.location as string));
    expect(resumed.status).toBe(303);
    const code = new URL(resumed.headers.location as string).searchParams.get('code')!;
    expect(await rowOf('AuthorizationCode', code)).toBeDefined();
    // The resumed interaction is gone with it.
    expect(await rowOf('Interaction', uid)).toBeUndefined();
  });

  it('a consent answer the service refuses writes nothing: no grant, no audit row, the interaction unanswered', async () => {
    const { client_id: clientId } = await registerClient(app);
    const { browser, interactionPath, page } = await atConsentPage(clientId);
    const uid = uidOf(interactionPath);
    const before = await rowOf('Interaction', uid);

    const refused = await browser.post(`${interactionPath}/confirm`).type('form')
      .send(new URLSearchParams({ decision: 'approve', scope: 'notes:admin', csrf: csrfTokenOf(page) }).toString());
    expect(refused.status).toBe(400);
    expect(refused.headers.location).toBeUndefined();
    expect((await rowOf('Interaction', uid))!.payload).toEqual(before!.payload);
    const { rows } = await app.db.query("SELECT 1 FROM oidc_models WHERE model = 'Grant' AND payload->>'clientId' = $1", [clientId]);
    expect(rows).toEqual([]);
    expect(await auditCount('consent.granted', clientId)).toBe(0);
  });
});

describe('the held statement', () => {
  // Run as one of our routes would: in a request scope, writes held by holdingModelWrites.
  const inRequest = async (step: () => Promise<void>) => {
    const ctx = {};
    await requestScope()(ctx as never, () => holdingModelWrites(app.db, ctx, step));
  };
  const upsert = (id: string, payload: Record<string, unknown>) =>
    ({ kind: 'upsert' as const, model: 'Interaction', id, values: ['Interaction', id, JSON.stringify(payload), null, null, null, null] });

  it('stores the last write of each row, and every row of the step, in one statement', async () => {
    const [kept, dropped, replaced] = ['kept', 'dropped', 'replaced'].map((name) => `held-${name}-${randomBytes(4).toString('hex')}`);
    await app.db.query("INSERT INTO oidc_models (model, id, payload) VALUES ('Interaction', $1, '{\"v\":0}')", [dropped]);
    await inRequest(async () => {
      expect(holdModelWrite(upsert(kept!, { v: 1 }))).toBe(true);
      expect(holdModelWrite(upsert(dropped!, { v: 1 }))).toBe(true);
      expect(holdModelWrite({ kind: 'delete', model: 'Interaction', id: dropped! })).toBe(true);
      expect(holdModelWrite({ kind: 'delete', model: 'Interaction', id: replaced! })).toBe(true);
      expect(holdModelWrite(upsert(replaced!, { v: 2 }))).toBe(true);
      // Nothing is written before the step ends.
      expect(await rowOf('Interaction', kept!)).toBeUndefined();
    });
    expect((await rowOf('Interaction', kept!))!.payload).toEqual({ v: 1 });
    expect(await rowOf('Interaction', dropped!)).toBeUndefined();
    expect((await rowOf('Interaction', replaced!))!.payload).toEqual({ v: 2 });
  });

  it('outside a holding step nothing is held, and a flush with nothing held sends nothing', async () => {
    expect(holdModelWrite(upsert('never-held', { v: 1 }))).toBe(false);
    const ctx = {};
    await flushHeldModelWrites(app.db, ctx);
    expect(await rowOf('Interaction', 'never-held')).toBeUndefined();
  });
});
