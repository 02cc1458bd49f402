// The kit's authenticate with DPoP (RFC 9449 §7): a cnf.jkt-bound JWT is accepted only as `Authorization:
// DPoP` with a valid proof; as Bearer, without a proof, or with a bad one it is refused with a DPoP challenge.
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResourceServer, ResourceServerError, type ResourceServerOptions } from '@portcullis/resource-server';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

let as: FakeAs;
let key: CryptoKey;
let jwk: JWK;
let jkt: string;
beforeEach(async () => {
  as = await startFakeAs();
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
  jkt = await calculateJwkThumbprint(jwk, 'sha256');
});
afterEach(async () => { await as.close(); });

const kit = (options: Partial<ResourceServerOptions> = {}) => createResourceServer({ resource: RESOURCE, issuer: as.issuer, ...options });
const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const ALGS = 'algs="ES256 EdDSA Ed25519 PS256 RS256"';

const proofFor = (token: string, htm = 'POST', htu = RESOURCE) => new SignJWT({
  htm, htu, jti: randomUUID(), ath: createHash('sha256').update(token).digest('base64url'),
}).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(key);

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ResourceServerError);
  return error as ResourceServerError;
}

describe('authenticate with DPoP', () => {
  it('accepts a DPoP-bound token with its proof (path checked on the resource origin, query ignored)', async () => {
    const token = await as.sign({ cnf: { jkt } });
    const info = await kit().authenticate({ authorization: `DPoP ${token}`, dpop: await proofFor(token), method: 'POST', url: '/mcp?x=1' });
    expect(info.claims.cnf).toEqual({ jkt });
  });

  it('refuses the bound token as Bearer, and without a proof, with a DPoP challenge', async () => {
    const server = kit();
    const token = await as.sign({ cnf: { jkt } });
    const asBearer = await refusal(server.authenticate({ authorization: `Bearer ${token}`, dpop: await proofFor(token), method: 'POST', url: '/mcp' }));
    expect(asBearer).toMatchObject({ code: 'invalid_token', message: 'the token is sender-constrained' });
    const answer = server.challenge(asBearer);
    expect(answer.status).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toBe(
      `DPoP error="invalid_token", error_description="the token is sender-constrained", ${ALGS}, resource_metadata="${PRM}"`,
    );
    const noProof = await refusal(server.authenticate({ authorization: `DPoP ${token}`, method: 'POST', url: '/mcp' }));
    expect(noProof.code).toBe('invalid_dpop_proof');
    expect(server.challenge(noProof).headers['WWW-Authenticate']).toMatch(/^DPoP error="invalid_dpop_proof", /);
    expect(server.challenge(noProof).body).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP-bound token was sent without a DPoP proof' });
  });

  it('refuses a proof for another path or method, a replayed proof, and a proof of another token', async () => {
    const server = kit();
    const token = await as.sign({ cnf: { jkt } });
    const call = (dpop: string, method = 'POST', url = '/mcp') => server.authenticate({ authorization: `DPoP ${token}`, dpop, method, url });
    expect((await refusal(call(await proofFor(token), 'POST', '/other'))).code).toBe('invalid_dpop_proof');
    expect((await refusal(call(await proofFor(token), 'GET'))).code).toBe('invalid_dpop_proof');
    const once = await proofFor(token);
    await call(once);
    expect((await refusal(call(once))).message).toBe('the DPoP proof was already used');
    expect((await refusal(call(await proofFor('another-token')))).message).toBe('the DPoP proof is for another access token');
  });

  it('refuses an unbound token under the DPoP scheme, and verifyAccessToken refuses a bound one', async () => {
    const server = kit();
    const plain = await as.sign();
    const error = await refusal(server.authenticate({ authorization: `DPoP ${plain}`, dpop: await proofFor(plain), method: 'POST', url: '/mcp' }));
    expect(error).toMatchObject({ code: 'invalid_token', dpop: true });
    expect((await refusal(server.verifyAccessToken(await as.sign({ cnf: { jkt } })))).message).toBe('the token is sender-constrained');
  });

  it("with dpop: 'required' refuses bearer tokens, challenges with DPoP, and says so in its metadata", async () => {
    const server = kit({ dpop: 'required' });
    const plain = await as.sign();
    const error = await refusal(server.authenticate({ authorization: `Bearer ${plain}`, method: 'POST', url: '/mcp' }));
    expect(error).toMatchObject({ code: 'invalid_token', message: 'this resource accepts only DPoP-bound tokens' });
    expect(server.challenge(error).headers['WWW-Authenticate']).toMatch(/^DPoP error="invalid_token", /);
    // Without any token the challenge is DPoP too, with algs but no error (RFC 9449 §7.1, RFC 6750 §3.1).
    const none = server.challenge(await refusal(server.authenticate({ method: 'POST', url: '/mcp' })));
    expect(none.headers['WWW-Authenticate']).toBe(`DPoP ${ALGS}, resource_metadata="${PRM}"`);
    expect(server.metadata).toMatchObject({ dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] });
    expect(kit().metadata).not.toHaveProperty('dpop_bound_access_tokens_required');
    const bound = await as.sign({ cnf: { jkt } });
    await expect(server.authenticate({ authorization: `DPoP ${bound}`, dpop: await proofFor(bound), method: 'POST', url: '/mcp' })).resolves.toBeDefined();
  });

  it('checks its DPoP options at start', () => {
    expect(() => kit({ dpop: { algorithms: ['HS256'] } })).toThrow(/not allowed/);
    expect(() => kit({ dpop: { algorithms: ['none'] } })).toThrow(/not allowed/);
    expect(() => kit({ dpop: 'sometimes' as 'required' })).toThrow(/allowed or required/);
  });
});
