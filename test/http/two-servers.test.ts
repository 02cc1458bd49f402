// Two server instances on one database behave as one server: nothing a flow needs lives only in one
// process (sessions, interactions, codes, refresh tokens, clients, keys are all in the database).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { createApp } from '../../src/app.ts';
import { TEST_SECRETS, createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';
import { exchangeCode, obtainCode, refresh, registerClient } from '../helpers/oauth-flow.ts';

let first: TestApp;
let second: ReturnType<typeof request.agent>;
beforeAll(async () => {
  first = await createTestApp();
  await first.addResource(notesResource());
  // A second provider, app and key cache over the same database, as another process would have.
  const other = await createApp({ config: first.config, db: first.db, secrets: TEST_SECRETS });
  second = request.agent(other.app.callback()).set('Host', 'localhost:4000');
});
afterAll(async () => first?.close());

describe('two servers, one database', () => {
  it('a code issued by one is redeemed at the other, and its refresh token works at either', async () => {
    const user = await first.addUser();
    const { client_id } = await registerClient(first);
    const { code, verifier } = await obtainCode(first, first.browser(), user.email, { clientId: client_id, resource: 'https://mcp.example.com/mcp', scope: 'notes:read' });
    const body = new URLSearchParams({ grant_type: 'authorization_code', client_id, code: code!, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:33418/callback' });
    const token = await second.post('/token').type('form').send(body.toString());
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(decodeJwt(token.body.access_token).aud).toBe('https://mcp.example.com/mcp');
    const rotated = await refresh(first, { client_id, refresh_token: token.body.refresh_token });
    expect(rotated.status).toBe(200);
    const again = await second.post('/token').type('form')
      .send(new URLSearchParams({ grant_type: 'refresh_token', client_id, refresh_token: rotated.body.refresh_token }).toString());
    expect(again.status).toBe(200);
    // Both publish the same keys.
    const [jwksA, jwksB] = await Promise.all([first.http().get('/jwks'), second.get('/jwks')]);
    expect(jwksA.body).toEqual(jwksB.body);
  });

  it('a code replayed at the other server is refused there too', async () => {
    const user = await first.addUser();
    const { client_id } = await registerClient(first);
    const { code, verifier } = await obtainCode(first, first.browser(), user.email, { clientId: client_id, resource: 'https://mcp.example.com/mcp', scope: 'notes:read' });
    expect((await exchangeCode(first, { client_id, code: code!, code_verifier: verifier })).status).toBe(200);
    const body = new URLSearchParams({ grant_type: 'authorization_code', client_id, code: code!, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:33418/callback' });
    const replay = await second.post('/token').type('form').send(body.toString());
    expect(replay.body.error).toBe('invalid_grant');
  });
});
