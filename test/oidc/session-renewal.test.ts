// The session id oidc-provider renews when an authorization resumes: the old id is deleted in the same
// statement that stores the new one (adapter.ts), so a cookie stolen before the renewal opens nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieAccessInfo } from 'cookiejar';
import type TestAgent from 'supertest/lib/agent.js';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, clientRedirectOf, decide, follow, obtainCode, pkcePair, registerClient } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
});
afterAll(async () => app?.close());

const sessionIds = async (accountId: string) => (await app.db.query<{ id: string }>(
  "SELECT id FROM oidc_models WHERE model = 'Session' AND payload->>'accountId' = $1", [accountId])).rows.map((row) => row.id);

/** The browser's cookies as a Cookie header: what a thief who copied them would send. */
function cookieHeader(browser: TestAgent): string {
  const jar = (browser as unknown as { jar: { getCookies(access: CookieAccessInfo): { name: string; value: string }[] } }).jar;
  return jar.getCookies(CookieAccessInfo.All).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
}

/** A silent authorization (prompt=none) with these cookies: a code when the session is valid. */
async function silentAuthorization(cookies: string, clientId: string) {
  const pkce = pkcePair();
  const response = await app.http().get(authorizeQuery({
    clientId, resource: NOTES, scope: 'notes:read', state: 'silent', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
    extra: { prompt: 'none' },
  })).set('Cookie', cookies);
  // A code comes in a 303; login_required for this self-registered client on the leaving page.
  return clientRedirectOf(response).searchParams;
}

describe('session renewal at a resumed authorization', () => {
  it('deletes the old session id, keeps one session, and the old cookie no longer signs anyone in', async () => {
    const { email, id: accountId } = await app.addUser();
    const { client_id: clientId } = await registerClient(app);
    const browser = app.browser();
    await obtainCode(app, browser, email, { clientId, resource: NOTES, scope: 'notes:read' });
    const [before] = await sessionIds(accountId);
    expect(before).toEqual(expect.any(String));
    const stolen = cookieHeader(browser);
    expect((await silentAuthorization(stolen, clientId)).get('code')).toEqual(expect.any(String));

    // A second authorization in the signed-in browser, with a consent page: its resume renews the id.
    const pkce = pkcePair();
    const page = await follow(browser, authorizeQuery({
      clientId, resource: NOTES, scope: 'notes:read', state: 'again', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
      extra: { prompt: 'consent' },
    }));
    expect(page.status).toBe(200);
    const back = await decide(browser, new URL(page.request.url).pathname, 'approve');
    expect(new URL(back.headers.location as string).searchParams.get('code')).toEqual(expect.any(String));

    const after = await sessionIds(accountId);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect((await silentAuthorization(stolen, clientId)).get('error')).toBe('login_required');
    expect((await silentAuthorization(cookieHeader(browser), clientId)).get('code')).toEqual(expect.any(String));
  });

  // oidc-provider drops the session at sign-out with no save after it: the request's end deletes it.
  it('signing out deletes the session row, and the old cookie no longer signs anyone in', async () => {
    const { email, id: accountId } = await app.addUser();
    const { client_id: clientId } = await registerClient(app);
    const browser = app.browser();
    await obtainCode(app, browser, email, { clientId, resource: NOTES, scope: 'notes:read' });
    const before = await sessionIds(accountId);
    expect(before).toHaveLength(1);
    const stolen = cookieHeader(browser);
    const page = await browser.get('/session/end');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(xsrf).toEqual(expect.any(String));
    const done = await browser.post('/session/end/confirm').type('form').send({ xsrf: xsrf!, logout: 'yes' });
    expect(done.status).toBe(303);
    expect(await sessionIds(accountId)).toEqual([]);
    expect((await silentAuthorization(stolen, clientId)).get('error')).toBe('login_required');
  });
});
