// A browser whose GET /auth/:uid reached a server that finished it (interaction consumed, code issued)
// and then crashed before answering retries at another server on the same database: it gets one
// button that starts the same authorization again, and that finishes with a code the client accepts.
import { createServer, ServerResponse, type Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../src/accounts/store.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { addResource } from '../../src/resources/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { ISSUER, PASSWORD, TEST_SECRETS, notesResource } from '../helpers/test-app.ts';
import { authorizeQuery, checkedScopes, csrfTokenOf, follow, pkcePair, REDIRECT_URI } from '../helpers/oauth-flow.ts';

type Handler = (req: Parameters<Parameters<typeof createServer>[1] & object>[0], res: ServerResponse) => unknown;

let testDb: TestDb;
let balancer: Server;
let closeApps: Array<() => Promise<void>> = [];
// What the load balancer in front of the two servers does with the next request.
let route: 'first' | 'first-then-crash' | 'second' = 'first';

beforeAll(async () => {
  testDb = await createMigratedTestDb();
  const config = loadConfig({ ISSUER });
  await addResource(testDb.db, notesResource(), config.accessTokenTtlSeconds);
  await addAccount(testDb.db, { email: 'alice@example.com', password: PASSWORD });
  const [first, second] = await Promise.all([1, 2].map(() => createApp({ config, db: testDb.db, secrets: TEST_SECRETS })));
  closeApps = [first!.close, second!.close];
  const handle: Record<'first' | 'second', Handler> = { first: first!.app.callback(), second: second!.app.callback() };
  balancer = createServer((req, res) => {
    if (route !== 'first-then-crash') return void handle[route](req, res);
    // The first server handles the request to the end, commits, and dies before its answer leaves:
    // its response goes nowhere and the browser's connection is cut. From now on only the second answers.
    route = 'second';
    void Promise.resolve(handle.first(req, new ServerResponse(req))).finally(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => balancer?.close(() => resolve()));
  for (const close of closeApps) await close();
  await testDb?.cleanup();
});

const pathOf = (location: string) => { const url = new URL(location, ISSUER); return `${url.pathname}${url.search}`; };

describe('a browser retrying /auth/:uid after the server that answered it crashed', () => {
  it('gets a one-click restart that ends in a code for the same state and PKCE verifier', async () => {
    const browser = request.agent(balancer).set('Host', 'localhost:4000');
    const register = await browser.post('/reg').send({ client_name: 'Crash test', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
    expect(register.status).toBe(201);
    const clientId = register.body.client_id as string;
    const pkce = pkcePair();
    const state = 'state-before-the-crash';

    // Sign in and approve at the first server, up to the redirect to /auth/<uid> that finishes the flow.
    let page = await follow(browser, authorizeQuery({ clientId, resource: 'https://mcp.example.com/mcp', scope: 'notes:read', state, codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    const loginPath = new URL(page.request.url).pathname;
    const login = await browser.post(`${loginPath}/login`).type('form').send({ email: 'alice@example.com', password: PASSWORD, csrf: csrfTokenOf(page.text) });
    expect(login.status).toBe(303);
    page = await follow(browser, pathOf(login.headers.location as string));
    expect(page.text).toContain('name="decision"');
    const consentPath = new URL(page.request.url).pathname;
    const form = new URLSearchParams({ decision: 'approve', csrf: csrfTokenOf(page.text) });
    for (const scope of checkedScopes(page.text)) form.append('scope', scope);
    const approved = await browser.post(`${consentPath}/confirm`).type('form').send(form.toString());
    expect(approved.status).toBe(303);
    const resumePath = pathOf(approved.headers.location as string);
    expect(resumePath).toMatch(/^\/auth\/[A-Za-z0-9_-]+$/);

    route = 'first-then-crash';
    await expect(browser.get(resumePath)).rejects.toThrow(/socket hang up|ECONNRESET/);

    // The browser retries; the second server finds the interaction consumed.
    const retried = await browser.get(resumePath).accept('html');
    expect(retried.status).toBe(400);
    expect(retried.text).toContain('Start signing in again');
    const action = /<form method="get" action="([^"]+)">/.exec(retried.text)?.[1];
    expect(action).toBe('/auth');
    const fields = [...retried.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)]
      .map((match) => [match[1]!, match[2]!.replaceAll('&#58;', ':').replaceAll('&#34;', '"').replaceAll('&amp;', '&').replaceAll('&#x2F;', '/').replaceAll('&#47;', '/')]);
    expect(Object.fromEntries(fields)).toMatchObject({ client_id: clientId, state, code_challenge: pkce.challenge });

    // One click: the same request again. The session the crashed server renewed never reached the
    // browser, so the person may have to sign in (and approve) once more, on the same request.
    let restarted = await follow(browser, `${action}?${new URLSearchParams(fields)}`);
    if (restarted.status === 200 && restarted.text.includes('name="password"')) {
      const again = new URL(restarted.request.url).pathname;
      const signedIn = await browser.post(`${again}/login`).type('form').send({ email: 'alice@example.com', password: PASSWORD, csrf: csrfTokenOf(restarted.text) });
      expect(signedIn.status).toBe(303);
      restarted = await follow(browser, pathOf(signedIn.headers.location as string));
    }
    // A new session has no grant for the client yet, so the consent page may be asked again too.
    if (restarted.status === 200 && restarted.text.includes('name="decision"')) {
      const again = new URL(restarted.request.url).pathname;
      const consent = new URLSearchParams({ decision: 'approve', csrf: csrfTokenOf(restarted.text) });
      for (const scope of checkedScopes(restarted.text)) consent.append('scope', scope);
      const confirmed = await browser.post(`${again}/confirm`).type('form').send(consent.toString());
      expect(confirmed.status).toBe(303);
      restarted = await follow(browser, pathOf(confirmed.headers.location as string));
    }
    expect(restarted.status, restarted.text).toBe(303);
    const callback = new URL(restarted.headers.location as string);
    expect(callback.searchParams.get('state')).toBe(state);
    const token = await browser.post('/token').type('form').send({
      grant_type: 'authorization_code', client_id: clientId, code: callback.searchParams.get('code')!, code_verifier: pkce.verifier, redirect_uri: REDIRECT_URI,
    });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
  });

  it('without a restart cookie (another browser), the page stays a plain error with no button', async () => {
    route = 'second';
    const stranger = await request(balancer).get('/auth/some-uid-this-browser-never-had').set('Host', 'localhost:4000').accept('html');
    expect(stranger.status).toBe(400);
    expect(stranger.text).not.toContain('Start signing in again');
  });
});
