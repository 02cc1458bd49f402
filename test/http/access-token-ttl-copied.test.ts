// ACCESS_TOKEN_TTL_SECONDS is copied into a resource when it is registered without its own lifetime:
// a server whose setting differs issues tokens for that resource with the registered lifetime, not its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { addResource } from '../../src/resources/store.ts';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, notesResource, type TestApp } from '../helpers/test-app.ts';

const REGISTERED_BY_CLI = 'https://cli.example.com/mcp';
const REGISTERED_BY_SERVER = 'https://server.example.com/mcp';
let app: TestApp;
let email: string;
beforeAll(async () => {
  app = await createTestApp({ ACCESS_TOKEN_TTL_SECONDS: '900' });
  // What `resource add` without --ttl stores when the CLI's environment says 300 (or nothing).
  await addResource(app.db, notesResource(REGISTERED_BY_CLI), 300);
  await app.addResource(notesResource(REGISTERED_BY_SERVER));
  email = (await app.addUser()).email;
});
afterAll(async () => app?.close());

async function tokenFor(resource: string) {
  const { client_id: clientId } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), email, { clientId, resource, scope: 'notes:read' });
  const token = await exchangeCode(app, { client_id: clientId, code: code!, code_verifier: verifier });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  const claims = decodeJwt(token.body.access_token as string);
  return { expiresIn: token.body.expires_in as number, lifetime: claims.exp! - claims.iat! };
}

describe('ACCESS_TOKEN_TTL_SECONDS', () => {
  it('is the lifetime stored at registration: the server\'s own 900 does not reach a resource registered with 300', async () => {
    expect(await tokenFor(REGISTERED_BY_CLI)).toEqual({ expiresIn: 300, lifetime: 300 });
    expect(await tokenFor(REGISTERED_BY_SERVER)).toEqual({ expiresIn: 900, lifetime: 900 });
  });
});
