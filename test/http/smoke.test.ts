import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';

let app: TestApp;
beforeAll(async () => { app = await createTestApp(); await app.addResource(notesResource()); });
afterAll(async () => app?.close());

describe('smoke', () => {
  it('runs a full flow', async () => {
    const user = await app.addUser();
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const result = await obtainCode(app, browser, user.email, { clientId: client_id, resource: 'https://mcp.example.com/mcp', scope: 'notes:read' });
    const token = await exchangeCode(app, { client_id, code: result.code!, code_verifier: result.verifier, resource: 'https://mcp.example.com/mcp' });
    console.log(token.status, token.body);
    console.log(decodeProtectedHeader(token.body.access_token), decodeJwt(token.body.access_token));
    expect(token.status).toBe(200);
  });
});
