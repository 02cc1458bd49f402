// What real MCP clients send: offline_access with prompt=consent (SDK v2), no resource when only one
// MCP server is registered, no scope at all, and a second authorization that reuses the grant.
// Consent rules themselves (defaults, step-up, irreversible scopes) are in consent.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { decide, exchangeCode, follow, obtainCode, authorizeQuery, pkcePair, registerClient, signIn } from '../helpers/oauth-flow.ts';

const NOTES = 'https://mcp.example.com/mcp';
let app: TestApp;
let email: string;
beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(NOTES));
  email = (await app.addUser()).email;
});
afterAll(async () => app?.close());

describe('MCP client behaviour', () => {
  it('serves offline_access with prompt=consent and issues a refresh token', async () => {
    const { client_id } = await registerClient(app);
    const result = await obtainCode(app, app.browser(), email, {
      clientId: client_id, resource: NOTES, scope: 'notes:read offline_access', extra: { prompt: 'consent' },
    });
    const token = await exchangeCode(app, { client_id, code: result.code!, code_verifier: result.verifier, resource: NOTES });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.refresh_token).toEqual(expect.any(String));
    expect(decodeJwt(token.body.access_token).aud).toBe(NOTES);
  });

  it('issues a refresh token without offline_access', async () => {
    const { client_id } = await registerClient(app);
    const result = await obtainCode(app, app.browser(), email, { clientId: client_id, resource: NOTES, scope: 'notes:read' });
    const token = await exchangeCode(app, { client_id, code: result.code!, code_verifier: result.verifier });
    expect(token.body.refresh_token).toEqual(expect.any(String));
  });

  it('a request without scope is offered the resource’s read scopes, and the token carries them', async () => {
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const { challenge, verifier } = pkcePair();
    const login = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, state: 'x', codeChallenge: challenge, codeChallengeMethod: 'S256' }));
    const consent = await signIn(browser, new URL(login.request.url).pathname, email);
    expect(consent.text).toContain('<code>notes:read</code>');
    expect(consent.text).not.toContain('notes:write');
    const back = await decide(browser, new URL(consent.request.url).pathname, 'approve');
    const code = new URL(back.headers.location as string).searchParams.get('code');
    const token = await exchangeCode(app, { client_id, code: code!, code_verifier: verifier });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token).scope).toBe('notes:read');
  });

  it('defaults resource to the only registered resource', async () => {
    const { client_id } = await registerClient(app);
    const result = await obtainCode(app, app.browser(), email, { clientId: client_id, scope: 'notes:read' });
    const token = await exchangeCode(app, { client_id, code: result.code!, code_verifier: result.verifier });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token).aud).toBe(NOTES);
  });

  it('a web client whose existing grant covers the request skips consent', async () => {
    const redirectUri = 'https://app.example.com/callback';
    const { client_id } = await registerClient(app, { redirect_uris: [redirectUri], application_type: 'web' });
    const browser = app.browser();
    await obtainCode(app, browser, email, { clientId: client_id, resource: NOTES, scope: 'notes:read', redirectUri });
    const again = await follow(browser, authorizeQuery({ clientId: client_id, resource: NOTES, scope: 'notes:read', state: 'x', redirectUri, codeChallenge: pkcePair().challenge, codeChallengeMethod: 'S256' }));
    expect(again.status).toBe(303);
    expect(new URL(again.headers.location as string).searchParams.get('code')).toEqual(expect.any(String));
  });
});
