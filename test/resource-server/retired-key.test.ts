// A signing key retired for a leak (`keys retire --force`) against a kit server running on the real app:
// the kit accepts a token, the key is retired and unpublished, and within jwks.cacheMaxAgeMs the same
// token is refused, although the kit had it in its verified-token cache.
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { retireSigningKey } from '../../src/oidc/keys-lifecycle.ts';
import { createResourceServer, ResourceServerError, type ResourceServer } from '@portcullis/resource-server';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
// Short for the test; the default is 60 s. Long enough that a slow machine does not refetch between calls.
const KEYS_TRUSTED_MS = 1500;
let app: TestApp;
let kit: ResourceServer;
let jwksFetches = 0;

beforeAll(async () => {
  app = await createTestApp();
  await app.addResource(notesResource(RESOURCE));
  const { port } = app.server.address() as AddressInfo;
  kit = createResourceServer({
    resource: RESOURCE,
    issuer: ISSUER,
    jwks: { cacheMaxAgeMs: KEYS_TRUSTED_MS },
    // Long, to show the bound holds for a token the kit already verified and cached.
    verifiedTokenCacheSeconds: 600,
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === '/jwks') jwksFetches += 1;
      const headers = new Headers(init?.headers);
      headers.set('host', url.host);
      return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { ...init, headers });
    },
  });
});
afterAll(async () => { await app.close(); });

async function issue() {
  const user = await app.addUser();
  const { client_id } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: client_id, resource: RESOURCE, scope: 'notes:read' });
  const response = await exchangeCode(app, { client_id, code: code!, code_verifier: verifier, resource: RESOURCE });
  expect(response.status, response.text).toBe(200);
  return (response.body as { access_token: string }).access_token;
}

const refusal = (token: string) => kit.authenticate({ authorization: `Bearer ${token}` }).then(() => undefined, (error: unknown) => error);

describe('a signing key retired with --force', () => {
  it('stops being accepted by the kit within jwks.cacheMaxAgeMs; tokens of the new key still are', async () => {
    const leaked = await issue();
    await expect(kit.verifyAccessToken(leaked)).resolves.toMatchObject({ scopes: ['notes:read'] });
    const leakedKid = decodeProtectedHeader(leaked).kid!;

    // The operator rotates, then retires the leaked key at once (what `keys retire --kid K --force` runs).
    await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, { actor: 'cli' }, 0);
    await app.signingKeys.refresh();
    await retireSigningKey(app.db, leakedKid, { force: true, operator: { actor: 'cli' } });
    expect(await app.signingKeys.refresh()).toBe(true);
    const published = (await app.http().get('/jwks')).body as { keys: { kid: string }[] };
    expect(published.keys.map((key) => key.kid)).not.toContain(leakedKid);

    const fetchesBefore = jwksFetches;
    await new Promise((resolve) => setTimeout(resolve, KEYS_TRUSTED_MS + 300));
    const error = await refusal(leaked);
    expect(error).toBeInstanceOf(ResourceServerError);
    expect(error).toMatchObject({ code: 'invalid_token', message: 'no signing key of the authorization server matches the token' });
    expect(kit.challenge(error).status).toBe(401);
    expect(kit.challenge(error).headers['WWW-Authenticate']).toContain('error="invalid_token"');
    expect(jwksFetches).toBeGreaterThan(fetchesBefore);

    // A token signed by the new key (a kid the kit has not seen before) verifies.
    await expect(kit.verifyAccessToken(await issue())).resolves.toMatchObject({ scopes: ['notes:read'] });
  });
});
