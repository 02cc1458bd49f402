// The kit against the real Portcullis app: a token issued by the authorization-code flow verifies, with
// metadata and keys discovered from the app itself; a token for another resource and a refresh token do not.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, ResourceServerError, type ResourceServer } from '@portcullis/resource-server';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
let app: TestApp;
let kit: ResourceServer;
let fetches: string[];

beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(RESOURCE));
  await app.addResource(notesResource('https://other.example.com/mcp'));
  const { port } = app.server.address() as AddressInfo;
  fetches = [];
  // The app answers for ISSUER (http://localhost:4000) but listens on a random port: the kit's `fetch`
  // option routes its calls there with the issuer's Host, as a reverse proxy would.
  kit = createResourceServer({
    resource: RESOURCE,
    issuer: ISSUER,
    scopesSupported: ['notes:read'],
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      fetches.push(url.pathname);
      const headers = new Headers(init?.headers);
      headers.set('host', url.host);
      return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { ...init, headers });
    },
  });
});
afterAll(async () => { await app.close(); });

async function issue(resource: string, scope: string) {
  const user = await app.addUser();
  const { client_id } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: client_id, resource, scope });
  const response = await exchangeCode(app, { client_id, code: code!, code_verifier: verifier, resource });
  expect(response.status, response.text).toBe(200);
  return { clientId: client_id, ...(response.body as { access_token: string; refresh_token?: string }) };
}

describe('a token issued by Portcullis', () => {
  it('verifies, with metadata and JWKS discovered from the issuer', async () => {
    const issued = await issue(RESOURCE, 'notes:read');
    const info = await kit.verifyAccessToken(issued.access_token);
    expect(info).toMatchObject({ clientId: issued.clientId, scopes: ['notes:read'] });
    expect(info.subject).toEqual(expect.any(String));
    expect(info.resource.href).toBe(RESOURCE);
    expect(fetches).toEqual(['/.well-known/oauth-authorization-server', '/jwks']);
  });

  it('for another registered resource is refused (audience binding)', async () => {
    const issued = await issue('https://other.example.com/mcp', 'notes:read');
    const error = await kit.verifyAccessToken(issued.access_token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResourceServerError);
    expect(error).toMatchObject({ code: 'invalid_token', message: 'the token is not for this resource' });
  });

  it('used for a tool it lacks the scope of gets the step-up challenge', async () => {
    const issued = await issue(RESOURCE, 'notes:read');
    const error = await kit.authenticate({ authorization: `Bearer ${issued.access_token}` }, { requiredScopes: ['notes:delete'] }).catch((caught: unknown) => caught);
    const answer = kit.challenge(error);
    expect(answer.status).toBe(403);
    expect(answer.headers['WWW-Authenticate']).toContain('scope="notes:read notes:delete"');
  });
});
