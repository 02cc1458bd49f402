// The ID-JAG checks (src/id-jag/verify.ts) against an identity-provider stand-in minting assertions with
// jose: a valid one passes once; every forged, stale, misdirected or replayed one is refused with its reason.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addIdJagIssuer } from '../../src/id-jag/service.ts';
import { linkSubject } from '../../src/id-jag/store.ts';
import { verifyIdJag, type IdJagVerifyDeps } from '../../src/id-jag/verify.ts';
import { createIssuerKeyCache } from '../../src/id-jag/key-cache.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

const AS = 'https://auth.portcullis.test';
const IDP = 'https://idp.acme.test';
const RESOURCE = 'https://mcp.portcullis.test/mcp';
const FETCH = { allowLoopback: true, timeoutMs: 2000, maxBytes: 65536 };
const CLIENT = 'agent-client';

let testDb: TestDb;
let deps: IdJagVerifyDeps;
let idpKey: CryptoKey;
let foreignKey: CryptoKey;
let jwksServer: Server;
let served: JWK;

const claims = (over: Record<string, unknown> = {}) => ({
  iss: IDP, sub: 'U0194', aud: AS, resource: RESOURCE, client_id: CLIENT, jti: crypto.randomUUID(),
  scope: 'notes.read notes.write', ...over,
});
async function mint(over: Record<string, unknown> = {}, opts: { key?: CryptoKey; typ?: string; iat?: number; exp?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims(over)).setProtectedHeader({ alg: 'ES256', typ: opts.typ ?? 'oauth-id-jag+jwt' })
    .setIssuedAt(opts.iat ?? now).setExpirationTime(opts.exp ?? now + 300).sign(opts.key ?? idpKey);
}

beforeAll(async () => {
  testDb = await createMigratedTestDb();
  ({ privateKey: foreignKey } = await generateKeyPair('ES256'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  idpKey = pair.privateKey;
  served = await exportJWK(pair.publicKey);
  await addIdJagIssuer(testDb.db, { issuer: IDP, jwks: { keys: [served] } }, CLI_OPERATOR);
  await linkSubject(testDb.db, IDP, 'U0194', 'acct-1');
  jwksServer = createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: [served] })); });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  deps = {
    db: testDb.db, issuer: AS, resourceScopes: async (uri) => (uri === RESOURCE ? ['notes.read', 'notes.write'] : undefined),
    keys: createIssuerKeyCache(FETCH),
  };
});
afterAll(async () => { jwksServer.close(); await testDb.cleanup(); });

const refusal = (promise: Promise<unknown>) => promise.then(() => 'accepted', (error: { reason?: string }) => error.reason);
const liveJtis = async () => Number((await testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM id_jag_used_jtis')).rows[0]!.n);

describe('verifyIdJag', () => {
  it('accepts a valid assertion once, then refuses its replay; one live jti record remains', async () => {
    const before = await liveJtis();
    const assertion = await mint();
    const verified = await verifyIdJag(deps, { assertion, clientId: CLIENT, scope: 'notes.read' });
    expect(verified).toMatchObject({ issuer: IDP, subject: 'U0194', accountId: 'acct-1', resource: RESOURCE, scopes: ['notes.read'] });
    expect(await refusal(verifyIdJag(deps, { assertion, clientId: CLIENT }))).toBe('replayed');
    expect(await liveJtis()).toBe(before + 1);
  });

  it('lets exactly one of several concurrent exchanges of one assertion through (a second pool on PostgreSQL)', async () => {
    const assertion = await mint();
    const other = testDb.secondPool?.() ?? testDb.db;
    const outcomes = await Promise.all([testDb.db, other, testDb.db, other].map((db) =>
      refusal(verifyIdJag({ ...deps, db }, { assertion, clientId: CLIENT }))));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'replayed')).toHaveLength(3);
  });

  it('refuses each forged, stale or misdirected assertion with its reason, and burns no jti', async () => {
    const now = Math.floor(Date.now() / 1000);
    const before = await liveJtis();
    const cases: [string, Promise<string>, string | undefined][] = [
      ['expired', mint({}, { iat: now - 400, exp: now - 100 }), undefined],
      ['wrong audience', mint({ aud: 'https://elsewhere.test' }), undefined],
      ['wrong client', mint({ client_id: 'other-client' }), undefined],
      ['foreign key', mint({}, { key: foreignKey }), undefined],
      ['wrong typ', mint({}, { typ: 'JWT' }), undefined],
      ['untrusted issuer', mint({ iss: 'https://evil.test' }), undefined],
      ['unknown resource', mint({ resource: 'https://other.test/mcp' }), undefined],
      ['unlinked subject', mint({ sub: 'stranger' }), undefined],
      ['too long a lifetime', mint({}, { iat: now, exp: now + 3600 }), undefined],
      ['resource differs from the request', mint(), 'https://other.test/mcp'],
      ['a scope the resource does not declare', mint({ scope: 'notes.read admin.everything' }), undefined],
      ['alg none', Promise.resolve(new UnsecuredJWT(claims()).setIssuedAt().setExpirationTime('5m').encode()), undefined],
      ['HS256', new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'oauth-id-jag+jwt' }).setIssuedAt()
        .setExpirationTime('5m').sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-len!')), undefined],
    ];
    const reasons: Record<string, string | undefined> = {};
    for (const [name, assertion, resource] of cases) {
      reasons[name] = await refusal(verifyIdJag(deps, { assertion: await assertion, clientId: CLIENT, resource }));
    }
    expect(reasons).toEqual({
      expired: 'claim_exp', 'wrong audience': 'claim_aud', 'wrong client': 'client_mismatch',
      'foreign key': 'err_jws_signature_verification_failed', 'wrong typ': 'claim_typ',
      'untrusted issuer': 'untrusted_issuer', 'unknown resource': 'unknown_resource', 'unlinked subject': 'unknown_subject',
      'too long a lifetime': 'lifetime', 'resource differs from the request': 'resource_mismatch',
      'a scope the resource does not declare': 'unknown_scope',
      'alg none': 'err_jose_alg_not_allowed', HS256: 'err_jose_alg_not_allowed',
    });
    expect(await liveJtis()).toBe(before);
  });

  it('fetches keys from a jwks_uri (loopback allowed in tests only) and a running verifier sees a new issuer at once', async () => {
    const issuer = 'https://idp2.acme.test';
    const assertion = await mint({ iss: issuer, sub: 'U2' });
    expect(await refusal(verifyIdJag(deps, { assertion, clientId: CLIENT }))).toBe('untrusted_issuer');
    await addIdJagIssuer(testDb.db, { issuer, jwksUri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks` }, CLI_OPERATOR);
    await linkSubject(testDb.db, issuer, 'U2', 'acct-2');
    expect((await verifyIdJag(deps, { assertion, clientId: CLIENT })).accountId).toBe('acct-2');
    const strict = { ...deps, keys: createIssuerKeyCache({ ...FETCH, allowLoopback: false }) };
    expect(await refusal(verifyIdJag(strict, { assertion: await mint({ iss: issuer, sub: 'U2' }), clientId: CLIENT }))).toBe('jwks_unavailable');
  });
});
