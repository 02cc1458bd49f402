// A federated identity provider marked `--id-jag` (src/federation/) is trusted for ID-JAGs through the one
// trust lookup (src/id-jag/store.ts): its keys come from its discovery document, its people from their
// federated identities; disabled, or not marked, it is not trusted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { addIdentityProvider, updateIdentityProvider } from '../../src/federation/service.ts';
import { verifyIdJag, type IdJagVerifyDeps } from '../../src/id-jag/verify.ts';
import { createIssuerKeyCache } from '../../src/id-jag/key-cache.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { TEST_SECRETS } from '../helpers/test-app.ts';

const AS = 'https://auth.portcullis.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const CLIENT = 'agent-client';

let testDb: TestDb;
let deps: IdJagVerifyDeps;
let idpKey: CryptoKey;
let served: JWK;
let server: Server;
let issuer: string;
let announcedIssuer: string;
let accountId: string;

const federation = () => ({ db: testDb.db, keyEncryptionSecret: TEST_SECRETS.keyEncryptionSecret, issuer: AS });
const mint = (sub = 'okta-sub-1') => new SignJWT({ resource: RESOURCE, client_id: CLIENT, jti: crypto.randomUUID(), scope: 'notes.read' })
  .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(issuer).setSubject(sub).setAudience(AS)
  .setIssuedAt().setExpirationTime('5m').sign(idpKey);
const freshKeys = () => createIssuerKeyCache({ allowLoopback: true, timeoutMs: 2000, maxBytes: 65536 });
const outcome = (promise: Promise<{ accountId: string }>) => promise.then((v) => v.accountId, (error: { reason?: string }) => error.reason);

beforeAll(async () => {
  testDb = await createMigratedTestDb();
  const pair = await generateKeyPair('ES256', { extractable: true });
  idpKey = pair.privateKey;
  served = await exportJWK(pair.publicKey);
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: announcedIssuer, jwks_uri: `${issuer}/jwks` }));
    else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [served] }));
    else { res.statusCode = 404; res.end('{}'); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  announcedIssuer = issuer;
  deps = { db: testDb.db, issuer: AS, resourceScopes: async (uri) => (uri === RESOURCE ? ['notes.read', 'notes.write'] : undefined), keys: freshKeys() };
  accountId = (await addAccount(testDb.db, { email: 'ada@acme.test', password: 'correct horse battery staple', isAdmin: false })).id;
  const provider = await addIdentityProvider(federation(), { name: 'acme', issuer, clientId: 'cid', clientSecret: 'secret', idJag: false }, CLI_OPERATOR);
  await testDb.db.query('INSERT INTO federated_identities (provider_id, subject, account_id, email) VALUES ($1, $2, $3, $4)',
    [provider.id, 'okta-sub-1', accountId, 'ada@acme.test']);
});
afterAll(async () => { server.close(); await testDb.cleanup(); });

describe('identity providers as ID-JAG issuers', () => {
  it('trusts a provider only while it is marked --id-jag and enabled; keys from its discovery document, the person from the federated identity', async () => {
    expect(await outcome(verifyIdJag(deps, { assertion: await mint(), clientId: CLIENT }))).toBe('untrusted_issuer');
    await updateIdentityProvider(federation(), { name: 'acme', idJag: true }, CLI_OPERATOR);
    expect(await outcome(verifyIdJag(deps, { assertion: await mint(), clientId: CLIENT }))).toBe(accountId);
    // A subject with no federated identity here is nobody, whatever else the assertion says.
    expect(await outcome(verifyIdJag(deps, { assertion: await mint('someone-else'), clientId: CLIENT }))).toBe('unknown_subject');
    await updateIdentityProvider(federation(), { name: 'acme', disabled: true }, CLI_OPERATOR);
    expect(await outcome(verifyIdJag(deps, { assertion: await mint(), clientId: CLIENT }))).toBe('untrusted_issuer');
    await updateIdentityProvider(federation(), { name: 'acme', disabled: false }, CLI_OPERATOR);
  });

  it('refuses keys from a discovery document that names another issuer (mix-up)', async () => {
    announcedIssuer = 'https://evil.example';
    try {
      // A new server process: nothing cached from the honest document above.
      expect(await outcome(verifyIdJag({ ...deps, keys: freshKeys() }, { assertion: await mint(), clientId: CLIENT }))).toBe('jwks_unavailable');
    } finally { announcedIssuer = issuer; }
  });
});
