// Key pre-publication on a running app: a rotated key is in jwks_uri at once but signs only from its
// `activates_at`, so a resource server that fetched our JWKS after the rotation never meets an unknown kid.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { publishedSigningKeyIds, rotateSigningKeys } from '../../src/oidc/keys.ts';
import { createResourceServer, ResourceServerError } from '@portcullis/resource-server';
import { exchangeCode, obtainCode, registerClient } from '../helpers/oauth-flow.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
const cli = { actor: 'cli' };
let app: TestApp;
let stopWatching: (() => void) | undefined;
afterEach(async () => {
  stopWatching?.();
  await app?.close();
});

async function start() {
  app = await createTestApp();
  await app.addResource(notesResource(RESOURCE));
}

async function issueAccessToken(): Promise<string> {
  const user = await app.addUser();
  const { client_id } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: client_id, resource: RESOURCE, scope: 'notes:read' });
  const token = await exchangeCode(app, { client_id, code: code!, code_verifier: verifier });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return token.body.access_token as string;
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const publishedKids = async () => ((await app.http().get('/jwks')).body as JSONWebKeySet).keys.map((key) => key.kid);
const rotate = async (aheadSeconds: number) => (await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, cli, aheadSeconds)).kids;
// Moves the activation into the past instead of waiting for it: the keys then signed from their creation.
const activateNow = (kids: string[]) =>
  app.db.query('UPDATE signing_keys SET activates_at = created_at WHERE kid = ANY($1)', [kids]);

/** A resource server built with the kit, its JWKS fetches counted; cooldown as configured, 30 s by default. */
function resourceServer(jwks: { cooldownMs?: number } = {}) {
  const { port } = app.server.address() as AddressInfo;
  const fetches: string[] = [];
  const kit = createResourceServer({
    resource: RESOURCE,
    issuer: ISSUER,
    scopesSupported: ['notes:read'],
    jwks,
    // The app answers for ISSUER but listens on a random port: route there with the issuer's Host.
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      fetches.push(url.pathname);
      const headers = new Headers(init?.headers);
      headers.set('host', url.host);
      return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { ...init, headers });
    },
  });
  return { kit, jwksFetches: () => fetches.filter((path) => path === '/jwks').length };
}

describe('a rotation published ahead', () => {
  it('is in jwks_uri at once, while tokens are still signed by the old key until its activation', async () => {
    await start();
    const oldKid = kidOf(await issueAccessToken());
    const newKids = await rotate(60);
    expect(await app.signingKeys.refresh()).toBe(true);
    expect(await publishedKids()).toEqual(expect.arrayContaining([oldKid, ...newKids]));
    expect(kidOf(await issueAccessToken())).toBe(oldKid);

    // The activation changes no kid, only the order (the new key first): the key check still notices it.
    const before = await publishedSigningKeyIds(app.db);
    await activateNow(newKids);
    const after = await publishedSigningKeyIds(app.db);
    expect([...after].sort()).toEqual([...before].sort());
    expect(after).not.toEqual(before);
    expect(await app.signingKeys.refresh()).toBe(true);
    expect(newKids).toContain(kidOf(await issueAccessToken()));
    expect(await app.signingKeys.refresh()).toBe(false);
  });

  it('starts signing on a watching server within KEY_REFRESH_SECONDS of its activation time', async () => {
    await start();
    const oldKid = kidOf(await issueAccessToken());
    const rotationStarted = Date.now();
    const newKids = await rotate(2);
    const rotatedAt = Date.now();
    stopWatching = app.signingKeys.watch(1);
    let kid = kidOf(await issueAccessToken());
    if (Date.now() - rotatedAt < 1500) expect(kid).toBe(oldKid); // too slow a machine may already be past it
    const deadline = rotatedAt + 2000 + 1000 + 5000; // ahead + KEY_REFRESH_SECONDS + slack for a slow CI
    while (!newKids.includes(kid!) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      kid = kidOf(await issueAccessToken());
    }
    expect(newKids).toContain(kid);
    expect(Date.now() - rotationStarted).toBeGreaterThanOrEqual(2000); // and not before its activation
  });
});

describe('a resource server using the kit (30 s JWKS refetch cooldown)', () => {
  it('that fetched the JWKS right after a rotation accepts the first token of the new key without a refetch', async () => {
    await start();
    const oldToken = await issueAccessToken();
    const newKids = await rotate(60);
    await app.signingKeys.refresh();
    const { kit, jwksFetches } = resourceServer();
    await kit.verifyAccessToken(oldToken); // its one JWKS fetch, after the rotation
    expect(jwksFetches()).toBe(1);

    await activateNow(newKids);
    await app.signingKeys.refresh();
    const newToken = await issueAccessToken();
    expect(newKids).toContain(kidOf(newToken));
    await expect(kit.verifyAccessToken(newToken)).resolves.toMatchObject({ scopes: ['notes:read'] });
    expect(jwksFetches()).toBe(1);
  });

  it('control: with --now, one that fetched the JWKS just before refuses the new key, as it may not refetch yet', async () => {
    await start();
    const oldToken = await issueAccessToken();
    const { kit, jwksFetches } = resourceServer();
    // The same resource server without a cooldown, which may refetch on any unknown kid.
    const { kit: eager, jwksFetches: eagerFetches } = resourceServer({ cooldownMs: 0 });
    await kit.verifyAccessToken(oldToken);
    await eager.verifyAccessToken(oldToken);
    const newKids = await rotate(0);
    await app.signingKeys.refresh();
    const newToken = await issueAccessToken();
    expect(newKids).toContain(kidOf(newToken));

    const refused = await kit.verifyAccessToken(newToken).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ResourceServerError);
    expect(refused).toMatchObject({ code: 'invalid_token', message: 'no signing key of the authorization server matches the token' });
    expect(jwksFetches()).toBe(1); // still cooling down: no refetch allowed
    await expect(eager.verifyAccessToken(newToken)).resolves.toMatchObject({ scopes: ['notes:read'] });
    expect(eagerFetches()).toBe(2); // it needed the refetch
  });
});
