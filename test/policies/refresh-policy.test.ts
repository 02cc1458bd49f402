// A policy change reaches grants already given at their next refresh: the operator changes the policy with
// the CLI's own code while the server runs; the next refresh's token is narrower, the grant is narrowed and
// audited, the successor refresh token cannot ask for the withheld scope, and a person no policy matches any
// more is refused (invalid_grant) without losing the refresh token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createNotesTestApp, type TestApp } from '../helpers/test-app.ts';
import { authorizeQuery, decide, exchangeCode, follow, pkcePair, refresh, registerClient, signIn } from '../helpers/oauth-flow.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { addAcmeProvider, addMember, allow } from './policy-test-setup.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let staff: string;
let staffPolicyId: string;

beforeAll(async () => {
  ({ app } = await createNotesTestApp(NOTES));
  const acme = await addAcmeProvider(app.db);
  staff = (await addMember(app, acme.id, { groups: ['staff'] })).email;
  staffPolicyId = (await allow(app.db, NOTES, 'groups=staff', 'write')).id;
  await allow(app.db, NOTES, 'groups=ops', 'irreversible');
});
afterAll(async () => app?.close());

async function tokensFor(email: string, scope: string, chosen: string[]) {
  const { client_id } = await registerClient(app);
  const browser = app.browser();
  const pkce = pkcePair();
  let page = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, scope, state: 's', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
  page = await signIn(browser, new URL(page.request.url).pathname, email);
  const back = await decide(browser, new URL(page.request.url).pathname, 'approve', chosen);
  const code = new URL(back.headers.location as string).searchParams.get('code')!;
  const token = await exchangeCode(app, { client_id, code, code_verifier: pkce.verifier });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return { client_id, tokens: token.body as { access_token: string; refresh_token: string; scope: string } };
}

describe('a policy change at the next refresh', () => {
  it('narrows the token and the grant, audited; the successor cannot ask for the withheld scope; a refused person keeps the token for later', async () => {
    const { client_id, tokens } = await tokensFor(staff, 'notes:read notes:write', ['notes:read', 'notes:write']);
    expect(tokens.scope).toBe('notes:read notes:write');
    const before = await refresh(app, { client_id, refresh_token: tokens.refresh_token });
    expect(before.body.scope).toBe('notes:read notes:write');

    // The operator lowers staff to read through the CLI's code; the running server reads it on the next request.
    await runCommand(app.db, ['policy', 'remove', '--id', staffPolicyId]);
    const readOnly = await runCommand(app.db, ['policy', 'add', '--resource', NOTES, '--claim', 'groups=staff', '--max-risk', 'read', '--json']);
    const narrowed = await refresh(app, { client_id, refresh_token: before.body.refresh_token });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    expect(narrowed.body.scope).toBe('notes:read');
    expect(decodeJwt(narrowed.body.access_token).scope).toBe('notes:read');

    await flushAuditWrites();
    const [event] = (await listAuditEvents(app.db, { type: 'policy.grant_narrowed' })).filter((e) => e.client_id === client_id);
    expect(event).toMatchObject({ resource: NOTES, scopes: 'notes:write', outcome: 'failure' });
    expect(event?.details).toMatchObject({ at: 'refresh', providers: ['acme'], decision: 'max_risk', claim: 'groups', value: 'staff', max_risk: 'read',
      policy_id: (readOnly.policy as { id: string }).id });
    const grant = await app.provider.Grant.find((event!.details as { grant_id: string }).grant_id);
    expect(grant?.getResourceScope(NOTES)).toBe('notes:read');

    // The successor refresh token was cut too: asking it for write is invalid_scope (RFC 6749 §6).
    const asksWrite = await refresh(app, { client_id, refresh_token: narrowed.body.refresh_token, scope: 'notes:write' });
    expect(asksWrite.status).toBe(400);
    expect(asksWrite.body.error).toBe('invalid_scope');

    // No policy matches staff any more: refused, and the refresh token is not spent by the refusal.
    await runCommand(app.db, ['policy', 'remove', '--id', (readOnly.policy as { id: string }).id]);
    const refused = await refresh(app, { client_id, refresh_token: narrowed.body.refresh_token });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    await flushAuditWrites();
    const [refusal] = (await listAuditEvents(app.db, { type: 'policy.resource_refused' })).filter((e) => e.client_id === client_id);
    expect(refusal?.details).toMatchObject({ at: 'refresh', decision: 'no_matching_policy', providers: ['acme'] });

    await runCommand(app.db, ['policy', 'add', '--resource', NOTES, '--claim', 'groups=staff', '--max-risk', 'write']);
    const back = await refresh(app, { client_id, refresh_token: narrowed.body.refresh_token });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    // Narrowing is not undone by a wider policy later: that takes the person's consent again.
    expect(back.body.scope).toBe('notes:read');
  });

  it('leaves a refresh alone when the policy still allows everything the grant holds', async () => {
    const { client_id, tokens } = await tokensFor(staff, 'notes:read', ['notes:read']);
    const refreshed = await refresh(app, { client_id, refresh_token: tokens.refresh_token });
    expect(refreshed.body.scope).toBe('notes:read');
    await flushAuditWrites();
    expect((await listAuditEvents(app.db, { type: 'policy.grant_narrowed' })).filter((e) => e.client_id === client_id)).toEqual([]);
  });
});
