// Rotating and retiring keys under a running app, without a restart: the JWKS publishes the new key
// within the check interval, new tokens carry its kid, older tokens keep verifying until their key is
// retired, and a sign-in begun before the rotation finishes after it.
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { listAuditEvents } from '../../src/audit/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { retireSigningKey } from '../../src/oidc/keys-lifecycle.ts';
import { createTestApp, ISSUER, notesResource, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';
import {
  authorizeQuery, decide, exchangeCode, follow, obtainCode, pkcePair, refresh, registerClient, signIn,
} from '../helpers/oauth-flow.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
const cli = { actor: 'cli' };
let app: TestApp;
let stopWatching: (() => void) | undefined;
afterEach(async () => {
  stopWatching?.();
  await app?.close();
});

async function start(environment: Record<string, string> = {}) {
  app = await createTestApp(environment);
  await app.addResource(notesResource(RESOURCE));
}

async function issue() {
  const user = await app.addUser();
  const { client_id } = await registerClient(app);
  const { code, verifier } = await obtainCode(app, app.browser(), user.email, { clientId: client_id, resource: RESOURCE, scope: 'notes:read' });
  const token = await exchangeCode(app, { client_id, code: code!, code_verifier: verifier });
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return { client_id, ...(token.body as { access_token: string; refresh_token: string }) };
}

const jwks = async () => (await app.http().get('/jwks')).body as JSONWebKeySet;
const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const verify = async (jwt: string) => jwtVerify(jwt, createLocalJWKSet(await jwks()), { issuer: ISSUER, audience: RESOURCE });

describe('rotation on a running app', () => {
  it('is published within the check interval; new tokens carry the new kid and older tokens still verify', async () => {
    await start();
    const before = await issue();
    const { kids: newKids } = await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, cli, 0);
    stopWatching = app.signingKeys.watch(1);
    const deadline = Date.now() + 5000;
    while (!(await jwks()).keys.some((key) => key.kid === newKids[0]) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await jwks()).keys.map((key) => key.kid)).toEqual(expect.arrayContaining([...newKids, kidOf(before.access_token)]));

    const after = await issue();
    expect(newKids).toContain(kidOf(after.access_token));
    await verify(after.access_token);
    await verify(before.access_token);
    // A refresh token issued under the old key set is redeemed under the new one, signed with the new key.
    const refreshed = await refresh(app, { client_id: before.client_id, refresh_token: before.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(newKids).toContain(kidOf(refreshed.body.access_token));
  });

  it('refresh() rebuilds only when the published keys changed', async () => {
    await start();
    expect(await app.signingKeys.refresh()).toBe(false);
    await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, cli, 0);
    const [first, second] = await Promise.all([app.signingKeys.refresh(), app.signingKeys.refresh()]);
    expect([first, second]).toEqual([true, true]); // concurrent calls share one check and one rebuild
    expect(await app.signingKeys.refresh()).toBe(false);
  });

  it('a sign-in and consent begun before the rotation finish after it, and the new provider is still audited', async () => {
    await start();
    const user = await app.addUser();
    const { client_id } = await registerClient(app);
    const browser = app.browser();
    const pkce = pkcePair();
    const login = await follow(browser, authorizeQuery({ clientId: client_id, resource: RESOURCE, scope: 'notes:read', state: 's1', codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' }));
    expect(login.text).toContain('name="password"');
    const interactionPath = new URL(login.request.url).pathname;

    const { kids: newKids } = await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, cli, 0);
    expect(await app.signingKeys.refresh()).toBe(true);

    const consent = await signIn(browser, interactionPath, user.email);
    const done = await decide(browser, new URL(consent.request.url).pathname, 'approve');
    const code = new URL(done.headers.location as string).searchParams.get('code');
    const token = await exchangeCode(app, { client_id, code: code!, code_verifier: pkce.verifier });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(newKids).toContain(kidOf(token.body.access_token));
    // token.issued comes from a listener on the provider instance: the rebuilt one has it too.
    await flushAuditWrites();
    const issued = await listAuditEvents(app.db, { type: 'token.issued' });
    expect(issued.map((event) => event.client_id)).toContain(client_id);
  });
});

describe('retirement on a running app', () => {
  it('removes the key from the JWKS at the next check: its tokens stop verifying, newer ones do not', async () => {
    await start();
    const before = await issue();
    const oldKid = kidOf(before.access_token)!;
    await rotateSigningKeys(app.db, TEST_SECRETS.keyEncryptionSecret, cli, 0);
    await app.signingKeys.refresh();
    const after = await issue();

    await retireSigningKey(app.db, oldKid, { force: true, operator: cli });
    expect((await jwks()).keys.map((key) => key.kid)).toContain(oldKid); // not yet checked
    expect(await app.signingKeys.refresh()).toBe(true);
    expect((await jwks()).keys.map((key) => key.kid)).not.toContain(oldKid);
    await expect(verify(before.access_token)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    await verify(after.access_token);
  });

  it('with SIGNING_ALG=RS256, the RS256 signing key cannot be retired and keeps signing', async () => {
    await start({ SIGNING_ALG: 'RS256' });
    const token = await issue();
    expect(decodeProtectedHeader(token.access_token).alg).toBe('RS256');
    await expect(retireSigningKey(app.db, kidOf(token.access_token)!, { force: true, operator: cli }))
      .rejects.toMatchObject({ code: 'signing_key' });
    expect(await app.signingKeys.refresh()).toBe(false);
    await verify((await issue()).access_token);
  });
});
