// The organisation's policies on the real consent page and authorization endpoint: only what a person's
// claims allow is offered, each withheld scope says why, posting a withheld scope is refused, a resource
// nobody matching may approve ends in access_denied, and a resource without policies is unrestricted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type TestAgent from 'supertest/lib/agent.js';
import { createNotesTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import {
  authorizeQuery, checkedScopes, clientRedirectOf, csrfTokenOf, decide, exchangeCode, follow, pkcePair, registerClient, signIn,
} from '../helpers/oauth-flow.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import type { Policy } from '../../src/policies/store.ts';
import { addAcmeProvider, addMember, allow } from './policy-test-setup.ts';

const NOTES = 'https://mcp.example.com/mcp';
const OPEN = 'https://open.example.com/mcp';
const WEB = 'https://app.example.com/cb';
let app: TestApp;
let contractor: string;
let ops: string;
let outsider: string;
let domainPerson: string;
let contractorPolicy: Policy;

beforeAll(async () => {
  ({ app } = await createNotesTestApp(NOTES));
  await app.addResource(notesResource(OPEN));
  const acme = await addAcmeProvider(app.db);
  contractor = (await addMember(app, acme.id, { groups: ['contractors'], roles: ['contractors'] })).email;
  ops = (await addMember(app, acme.id, { groups: ['ops', 'staff'] })).email;
  // A local account in the bound domain, spelt in capitals: the domain compares in the one host form.
  domainPerson = (await app.addUser(`someone@ACME.Example`)).email;
  outsider = (await app.addUser('visitor@elsewhere.example')).email;
  contractorPolicy = await allow(app.db, NOTES, 'groups=contractors', 'read');
  await allow(app.db, NOTES, 'groups=ops', 'irreversible');
  await allow(app.db, NOTES, 'domain=acme.example', 'write');
});
afterAll(async () => app?.close());

const interactionPath = (page: { request: { url: string } }) => new URL(page.request.url).pathname;

async function authorize(browser: TestAgent, clientId: string, email: string, scope: string, resource = NOTES) {
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({
    clientId, resource, scope, state: 'st4te', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
  }));
  if (page.status === 200 && page.text.includes('name="password"')) page = await signIn(browser, interactionPath(page), email);
  return { page, verifier: pkce.verifier };
}

const offeredScopes = (html: string) => [...html.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1]!.replaceAll('&#58;', ':'));
const withheldScopes = (html: string) => [...html.matchAll(/<li class="risk-\w+ withheld-scope"><span class="badge">\w+<\/span> <code>([^<]*)<\/code>/g)].map((m) => m[1]);

describe('the consent page under a policy', () => {
  it('offers a contractor read only, and says per withheld scope which policy and risk keep it off', async () => {
    const { client_id } = await registerClient(app);
    const { page } = await authorize(app.browser(), client_id, contractor, 'notes:read notes:write notes:delete');
    expect(page.status, page.text).toBe(200);
    expect(offeredScopes(page.text)).toEqual(['notes:read']);
    expect(withheldScopes(page.text)).toEqual(['notes:write', 'notes:delete']);
    expect(page.text).toContain("Your organisation&#39;s policy lets you approve at most read access here");
    expect(page.text).toContain(`groups=contractors, policy ${contractorPolicy.id}); this permission is write.`);
    expect(page.text).toContain('this permission is irreversible.');
    await flushAuditWrites();
    const withheld = (await listAuditEvents(app.db, { type: 'policy.scope_withheld' })).find((e) => e.client_id === client_id);
    expect(withheld).toMatchObject({ resource: NOTES, scopes: 'notes:write notes:delete', outcome: 'failure' });
    expect(withheld?.details).toMatchObject({
      at: 'authorization', providers: ['acme'], decision: 'max_risk', policy_id: contractorPolicy.id, claim: 'groups', value: 'contractors', max_risk: 'read',
    });
  });

  it('refuses an approval that posts a withheld scope, and the honest answer grants read only', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { page, verifier } = await authorize(browser, client_id, contractor, 'notes:read notes:write');
    for (const forged of ['notes:write', 'notes:delete']) {
      const response = await browser.post(`${interactionPath(page)}/confirm`).type('form')
        .send(`decision=approve&scope=notes%3Aread&scope=${encodeURIComponent(forged)}&csrf=${csrfTokenOf(page.text)}`);
      expect(response.status).toBe(400);
      expect(response.text).toContain('a permission was submitted that this page did not offer');
    }
    await flushAuditWrites();
    expect((await listAuditEvents(app.db, { type: 'consent.granted' })).filter((e) => e.client_id === client_id)).toEqual([]);
    const back = await decide(browser, interactionPath(page), 'approve');
    const code = new URL(back.headers.location as string).searchParams.get('code')!;
    const token = await exchangeCode(app, { client_id, code, code_verifier: verifier });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.scope).toBe('notes:read');
    expect(decodeJwt(token.body.access_token).scope).toBe('notes:read');
  });

  it('does not ask the person again for what only the policy withholds: the next authorization returns read at once', async () => {
    const { addOperatorClient } = await import('../../src/clients/store.ts');
    const web = await addOperatorClient(app.db, { name: 'Web', redirectUris: [WEB], confidential: false });
    const browser = app.browser();
    const start = (scope = 'notes:read notes:write') => {
      const pkce = pkcePair();
      return follow(browser, authorizeQuery({
        clientId: web.clientId, resource: NOTES, scope, redirectUri: WEB, state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256',
      })).then((page) => ({ page, verifier: pkce.verifier }));
    };
    const first = await start();
    const consent = await signIn(browser, interactionPath(first.page), contractor);
    expect(offeredScopes(consent.text)).toEqual(['notes:read']);
    expect(clientRedirectOf(await decide(browser, interactionPath(consent), 'approve')).searchParams.get('code')).toEqual(expect.any(String));
    const again = await start();
    expect(again.page.status, again.page.text).toBe(303);
    const code = clientRedirectOf(again.page).searchParams.get('code')!;
    const token = await exchangeCode(app, { client_id: web.clientId, code, code_verifier: again.verifier, redirect_uri: WEB });
    expect(token.body.scope).toBe('notes:read');
    // An irreversible scope asks afresh every time, but not one the person may not approve.
    const irreversible = await start('notes:read notes:delete');
    expect(irreversible.page.status, irreversible.page.text).toBe(303);
    expect(clientRedirectOf(irreversible.page).searchParams.get('code')).toEqual(expect.any(String));
    await flushAuditWrites();
    const events = (await listAuditEvents(app.db, { type: 'policy.scope_withheld' })).filter((e) => e.client_id === web.clientId);
    // One decision per authorization request: not again when the consent answer resumes it.
    expect(events.map((e) => e.scopes).sort()).toEqual(['notes:delete', 'notes:write', 'notes:write']);
  });

  it('offers the ops group everything, with irreversible left unchecked as always', async () => {
    const { client_id } = await registerClient(app);
    const { page } = await authorize(app.browser(), client_id, ops, 'notes:read notes:write notes:delete');
    expect(offeredScopes(page.text)).toEqual(['notes:read', 'notes:write', 'notes:delete']);
    expect(checkedScopes(page.text)).toEqual(['notes:read']);
    expect(withheldScopes(page.text)).toEqual([]);
  });

  it('matches the domain policy on the account email domain, whatever its spelling', async () => {
    const { client_id } = await registerClient(app);
    const { page } = await authorize(app.browser(), client_id, domainPerson, 'notes:read notes:write notes:delete');
    expect(offeredScopes(page.text)).toEqual(['notes:read', 'notes:write']);
    expect(withheldScopes(page.text)).toEqual(['notes:delete']);
    expect(page.text).toContain('(domain=acme.example, policy pol_');
  });

  it('leaves a resource without policies unrestricted, for the same person', async () => {
    const { client_id } = await registerClient(app);
    const { page } = await authorize(app.browser(), client_id, contractor, 'notes:read notes:write notes:delete', OPEN);
    expect(offeredScopes(page.text)).toEqual(['notes:read', 'notes:write', 'notes:delete']);
    expect(withheldScopes(page.text)).toEqual([]);
  });
});

describe('a resource the person may not approve at all', () => {
  it('ends the authorization with access_denied naming the resource, audited with the policies consulted', async () => {
    const { client_id } = await registerClient(app);
    const { page } = await authorize(app.browser(), client_id, outsider, 'notes:read');
    expect(page.text).not.toContain('name="decision"');
    const callback = clientRedirectOf(page);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toBe(`your organisation's policy does not let you approve access to Notes MCP (${NOTES})`);
    expect(callback.searchParams.get('state')).toBe('st4te');
    expect(callback.searchParams.get('code')).toBeNull();
    await flushAuditWrites();
    const refused = (await listAuditEvents(app.db, { type: 'policy.resource_refused' })).find((e) => e.client_id === client_id);
    expect(refused).toMatchObject({ resource: NOTES, scopes: 'notes:read' });
    expect(refused?.details).toMatchObject({ at: 'authorization', decision: 'no_matching_policy', providers: [] });
    expect((refused?.details as { policy_ids: string[] }).policy_ids).toHaveLength(3);
  });

  it('the same person still reaches a resource without policies', async () => {
    const { client_id } = await registerClient(app);
    const { page } = await authorize(app.browser(), client_id, outsider, 'notes:read', OPEN);
    expect(offeredScopes(page.text)).toEqual(['notes:read']);
  });
});
