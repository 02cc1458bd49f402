// Issue 12, "what the CLI adds, a running server uses without a restart": the real server process runs on a
// sandbox while the real CLI adds an identity provider (its "Continue with" button appears on the server's sign-in
// page and leads to the provider; `idp update --disable` takes it away) and a policy (the server's consent page withholds).
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FederatedPerson } from '../e2e/federated-person.ts';
import { approveAllOffered } from '../e2e/person.ts';
import { authorizeQuery, csrfTokenOf, pkcePair, REDIRECT_URI } from '../helpers/oauth-flow.ts';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.ts';
import { createSandbox, parseJsonOutput, startServer, type RunningServer, type Sandbox } from './harness.ts';

const NOTES = 'https://notes.example.com/mcp';
let sandbox: Sandbox;
let server: RunningServer;
let idp: UpstreamIdp;
let clientId: string;

/** The CLI command, which must succeed: its --json output. */
async function cli(...args: string[]) {
  const result = await sandbox.cli([...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return parseJsonOutput(result);
}

beforeAll(async () => {
  sandbox = await createSandbox();
  server = await startServer(sandbox);
  idp = await startUpstreamIdp({
    redirectUris: [`${server.baseUrl}/federation/callback`],
    users: [
      { sub: 'u-cora', email: 'cora@acme.test', email_verified: true, groups: ['contractors'] },
      { sub: 'u-carl', email: 'carl@acme.test', email_verified: true, groups: ['contractors'] },
    ],
  });
  await cli('resource', 'add', '--uri', NOTES, '--name', 'Notes', '--scope', 'notes:read=read', '--scope', 'notes:write=write');
  clientId = String((await cli('client', 'add', '--name', 'Agent', '--redirect-uri', REDIRECT_URI)).client_id);
}, 120_000);
afterAll(async () => {
  await idp?.close();
  await server?.stop();
  await sandbox?.cleanup();
});

const authorizationPath = () => authorizeQuery({
  clientId, resource: NOTES, scope: 'notes:read notes:write', codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256', state: 'cli-live',
});

/** Starts an authorization at the running server in a fresh browser and follows it to the sign-in page. */
async function openSignInPage(): Promise<{ browser: TestAgent; path: string; html: string }> {
  const browser = request.agent(server.baseUrl);
  let response = await browser.get(authorizationPath());
  for (let hop = 0; hop < 5 && response.status >= 300 && response.status < 400; hop += 1) {
    const next = new URL(response.headers.location as string, server.baseUrl);
    expect(next.origin).toBe(server.baseUrl);
    response = await browser.get(`${next.pathname}${next.search}`);
  }
  expect(response.status, response.text.slice(0, 300)).toBe(200);
  expect(response.text).toContain('name="password"');
  return { browser, path: new URL(response.request.url).pathname, html: response.text };
}

const buttonsOf = (html: string) => [...html.matchAll(/<button[^>]*>\s*(Continue with [^<]*?)\s*<\/button>/g)].map((m) => m[1]);

describe('the CLI beside a running server, for federated sign-in', () => {
  it('idp add puts "Continue with Acme SSO" on the running server\'s sign-in page, leading to the provider; idp update --disable takes it off', async () => {
    expect(buttonsOf((await openSignInPage()).html)).toEqual([]);

    const added = await cli('idp', 'add', '--name', 'acme', '--display-name', 'Acme SSO', '--issuer', idp.issuer,
      '--client-id', idp.clientId, '--client-secret', idp.clientSecret, '--domain', 'acme.test',
      '--scope', 'openid', '--scope', 'email', '--scope', 'groups', '--groups-claim', 'groups');
    expect(added).toMatchObject({ identity_provider: { name: 'acme', status: 'active' } });

    // Same server process: the button is there, and pressing it sends the browser to the provider's
    // authorization endpoint (the server read the new provider's settings and its discovery document).
    const { browser, path, html } = await openSignInPage();
    expect(buttonsOf(html)).toEqual(['Continue with Acme SSO']);
    const pressed = await browser.post(`${path}/federation`).type('form').send({ provider: 'acme', csrf: csrfTokenOf(html) });
    expect(pressed.status, pressed.text.slice(0, 300)).toBe(303);
    const upstream = new URL(pressed.headers.location as string);
    expect(upstream.origin).toBe(idp.issuer);
    expect(upstream.searchParams.get('client_id')).toBe(idp.clientId);
    expect(upstream.searchParams.get('redirect_uri')).toBe(`${server.baseUrl}/federation/callback`);

    expect(await cli('idp', 'update', '--name', 'acme', '--disable')).toMatchObject({ identity_provider: { status: 'disabled' } });
    expect(buttonsOf((await openSignInPage()).html)).toEqual([]);

    expect(await cli('idp', 'update', '--name', 'acme', '--enable')).toMatchObject({ identity_provider: { status: 'active' } });
    expect(buttonsOf((await openSignInPage()).html)).toEqual(['Continue with Acme SSO']);
  });

  it('policy add: the running server\'s consent page withholds what the person\'s group may no longer approve', async () => {
    // Before the policy, a contractor signing in through Acme SSO is offered write; she denies.
    const before = new FederatedPerson(server.baseUrl, idp, 'Acme SSO', 'u-cora');
    const denied = await before.authorize(new URL(authorizationPath(), server.baseUrl), () => []);
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(before.consents[0]!.offered).toEqual(['notes:read', 'notes:write']);

    const added = await cli('policy', 'add', '--resource', NOTES, '--claim', 'groups=contractors', '--max-risk', 'read') as { policy: { id: string } };

    // Same server process: the next contractor is offered read alone, the page says why write is off, and the code carries read.
    const after = new FederatedPerson(server.baseUrl, idp, 'Acme SSO', 'u-carl');
    const callback = await after.authorize(new URL(authorizationPath(), server.baseUrl), approveAllOffered);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    const consent = after.consents[0]!;
    expect(consent.offered).toEqual(['notes:read']);
    expect(consent.html).toMatch(/Not yours to allow[\s\S]*<code>notes:write<\/code>/);
    expect(consent.html).toContain(`(groups=contractors, policy ${added.policy.id})`);
  });
});
