// The trusted issuers' keys cache (src/id-jag/key-cache.ts) against a loopback IdP that counts its
// requests: one discovery and one JWKS fetch serve many exchanges; a rotated key is fetched once, after
// the cooldown; made-up `kid`s do not turn into requests to the IdP; keys are fetched again after expiry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { addIdentityProvider } from '../../src/federation/service.ts';
import { createIssuerKeyCache, KEY_CACHE_SECONDS, REFETCH_COOLDOWN_SECONDS } from '../../src/id-jag/key-cache.ts';
import { verifyIdJag, type IdJagVerifyDeps } from '../../src/id-jag/verify.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { TEST_SECRETS } from '../helpers/test-app.ts';

const AS = 'https://as.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const CLIENT = 'agent-1';

let testDb: TestDb;
let server: Server;
let issuer: string;
let served: JWK[];
const hits = { discovery: 0, jwks: 0 };
let clock = Date.now();
let deps: IdJagVerifyDeps;

async function keyPair(kid: string) {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' } };
}
const mint = (key: CryptoKey, kid: string) => new SignJWT({ resource: RESOURCE, client_id: CLIENT, jti: crypto.randomUUID(), scope: 'notes.read' })
  .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt', kid }).setIssuer(issuer).setSubject('okta-sub-1').setAudience(AS)
  .setIssuedAt(Math.floor(clock / 1000)).setExpirationTime(Math.floor(clock / 1000) + 300).sign(key);
const outcome = (assertion: string) => verifyIdJag(deps, { assertion, clientId: CLIENT }).then(() => 'accepted', (e: { reason?: string }) => e.reason);

beforeAll(async () => {
  testDb = await createMigratedTestDb();
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') { hits.discovery += 1; res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` })); }
    else if (req.url === '/jwks') { hits.jwks += 1; res.end(JSON.stringify({ keys: served })); }
    else { res.statusCode = 404; res.end('{}'); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accountId = (await addAccount(testDb.db, { email: 'ada@acme.test', password: 'correct horse battery staple', isAdmin: false })).id;
  const provider = await addIdentityProvider({ db: testDb.db, keyEncryptionSecret: TEST_SECRETS.keyEncryptionSecret, issuer: AS },
    { name: 'acme', issuer, clientId: 'cid', clientSecret: 'secret', idJag: true }, CLI_OPERATOR);
  await testDb.db.query('INSERT INTO federated_identities (provider_id, subject, account_id) VALUES ($1, $2, $3)', [provider.id, 'okta-sub-1', accountId]);
  deps = {
    db: testDb.db, issuer: AS, now: () => clock,
    resourceScopes: async (uri) => (uri === RESOURCE ? ['notes.read'] : undefined),
    keys: createIssuerKeyCache({ allowLoopback: true, timeoutMs: 2000, maxBytes: 65536 }, () => clock),
  };
});
afterAll(async () => { server.close(); await testDb.cleanup(); });

describe('ID-JAG issuer key cache', () => {
  it('fetches discovery and keys once for many exchanges, picks up a rotated key once past the cooldown, and refetches after expiry', async () => {
    const first = await keyPair('k1');
    served = [first.jwk];
    for (let i = 0; i < 3; i += 1) expect(await outcome(await mint(first.privateKey, 'k1'))).toBe('accepted');
    expect(hits).toEqual({ discovery: 1, jwks: 1 });

    // The IdP rotates to k2. Within the cooldown an unknown kid is refused without asking the IdP.
    const second = await keyPair('k2');
    served = [first.jwk, second.jwk];
    expect(await outcome(await mint(second.privateKey, 'k2'))).toBe('err_jwks_no_matching_key');
    expect(hits.jwks).toBe(1);
    // Past the cooldown, the same assertion shape is accepted after one more JWKS request.
    clock += (REFETCH_COOLDOWN_SECONDS + 1) * 1000;
    expect(await outcome(await mint(second.privateKey, 'k2'))).toBe('accepted');
    expect(hits.jwks).toBe(2);

    // Many made-up kids right after that refetch cost the IdP nothing.
    const forger = await keyPair('k9');
    for (let i = 0; i < 5; i += 1) expect(await outcome(await mint(forger.privateKey, `k9-${i}`))).toBe('err_jwks_no_matching_key');
    expect(hits.jwks).toBe(2);

    // A key the IdP stopped publishing stops working once the cache expires.
    served = [second.jwk];
    clock += (KEY_CACHE_SECONDS + 1) * 1000;
    expect(await outcome(await mint(first.privateKey, 'k1'))).toBe('err_jwks_no_matching_key');
    expect(hits).toEqual({ discovery: 2, jwks: 3 });
  });
});
