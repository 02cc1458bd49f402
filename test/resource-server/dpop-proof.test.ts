// DPoP proof verification (RFC 9449 §4.3) in the kit's framework-free core, with proofs made by jose:
// each check an attacker might slip past (method, URL, age, replay, token hash, key, alg none) is refused.
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryDpopReplayStore, dpopChallenge, normalizeHtu, ResourceServerError, verifyDpopProof, type DpopProofCheck,
} from '@portcullis/resource-server';

const URL_ = 'https://mcp.example.com/mcp';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.e30.sig';
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

let key: CryptoKey;
let publicJwk: JWK;
let jkt: string;
let otherKey: CryptoKey;
let otherJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  publicJwk = await exportJWK(pair.publicKey);
  jkt = await calculateJwkThumbprint(publicJwk, 'sha256');
  const other = await generateKeyPair('ES256');
  otherKey = other.privateKey;
  otherJwk = await exportJWK(other.publicKey);
});

interface ProofParts { htm?: string; htu?: string; iat?: number; jti?: string; ath?: string; typ?: string; signWith?: CryptoKey; jwk?: JWK }

function proof(parts: ProofParts = {}): Promise<string> {
  return new SignJWT({
    htm: parts.htm ?? 'POST', htu: parts.htu ?? URL_, jti: parts.jti ?? randomUUID(), ath: parts.ath ?? ath(TOKEN),
  })
    .setProtectedHeader({ alg: 'ES256', typ: parts.typ ?? 'dpop+jwt', jwk: parts.jwk ?? publicJwk })
    .setIssuedAt(parts.iat ?? Math.floor(Date.now() / 1000))
    .sign(parts.signWith ?? key);
}

const check = (dpop: DpopProofCheck['proof'], more: Partial<DpopProofCheck> = {}): DpopProofCheck => ({
  proof: dpop, method: 'POST', url: URL_, accessToken: TOKEN, jkt, replayStore: createMemoryDpopReplayStore(), ...more,
});

async function refusal(run: Promise<unknown>): Promise<ResourceServerError> {
  const error = await run.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ResourceServerError);
  const refused = error as ResourceServerError;
  expect(refused.code).toBe('invalid_dpop_proof');
  expect(refused.status).toBe(401);
  return refused;
}

describe('DPoP proof verification', () => {
  it('accepts a proof for this method, URL, token and key; htu ignores query and fragment and default port', async () => {
    await expect(verifyDpopProof(check(await proof()))).resolves.toBeUndefined();
    await expect(verifyDpopProof(check(await proof({ htu: 'HTTPS://MCP.example.com:443/mcp' }), { url: `${URL_}?a=1#f` })))
      .resolves.toBeUndefined();
    expect(normalizeHtu('https://Mcp.Example.com:443/mcp?x=1#y')).toBe('https://mcp.example.com/mcp');
  });

  it('refuses a missing proof, two proofs and a proof that is not a JWT', async () => {
    expect((await refusal(verifyDpopProof(check(undefined)))).message).toMatch(/without a DPoP proof/);
    const one = await proof();
    expect((await refusal(verifyDpopProof(check([one, one])))).message).toMatch(/more than one/);
    await refusal(verifyDpopProof(check('not-a-jwt')));
  });

  it('refuses a proof for another method or another URL', async () => {
    expect((await refusal(verifyDpopProof(check(await proof({ htm: 'GET' }))))).message).toMatch(/another HTTP method/);
    expect((await refusal(verifyDpopProof(check(await proof({ htu: 'https://mcp.example.com/other' }))))).message).toMatch(/another URL/);
    expect((await refusal(verifyDpopProof(check(await proof({ htu: 'https://evil.example/mcp' }))))).message).toMatch(/another URL/);
  });

  it('refuses a stale proof and one from the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await refusal(verifyDpopProof(check(await proof({ iat: now - 300 }))))).message).toMatch(/too old/);
    expect((await refusal(verifyDpopProof(check(await proof({ iat: now + 300 }))))).message).toMatch(/too old|future/);
  });

  it('refuses a replayed jti (the store is what several processes would share)', async () => {
    const store = createMemoryDpopReplayStore();
    const once = await proof();
    await verifyDpopProof(check(once, { replayStore: store }));
    expect((await refusal(verifyDpopProof(check(once, { replayStore: store })))).message).toMatch(/already used/);
  });

  it('refuses a proof for another access token (ath)', async () => {
    expect((await refusal(verifyDpopProof(check(await proof({ ath: ath('another-token') }))))).message).toMatch(/another access token/);
  });

  it('refuses a proof by a key other than the bound one, and a signature that does not match the embedded key', async () => {
    const byOther = await proof({ signWith: otherKey, jwk: otherJwk });
    expect((await refusal(verifyDpopProof(check(byOther)))).message).toMatch(/not the one the token is bound to/);
    // Signed by another key while claiming ours: the signature check with the embedded JWK fails.
    await refusal(verifyDpopProof(check(await proof({ signWith: otherKey }))));
  });

  it('refuses alg none, a wrong typ, and an algorithm outside the allow-list', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk })}.${b64({
      htm: 'POST', htu: URL_, jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ath: ath(TOKEN),
    })}.`;
    expect((await refusal(verifyDpopProof(check(none)))).message).toMatch(/algorithm is not allowed/);
    await refusal(verifyDpopProof(check(await proof({ typ: 'JWT' }))));
    expect((await refusal(verifyDpopProof(check(await proof(), { algorithms: ['EdDSA'] })))).message).toMatch(/algorithm is not allowed/);
  });

  it('the memory store stays bounded: full of live entries, it refuses rather than forgets', () => {
    let now = 0;
    const store = createMemoryDpopReplayStore({ maxEntries: 2, now: () => now });
    expect(store.remember('a', 10)).toBe(true);
    expect(store.remember('b', 10)).toBe(true);
    expect(store.remember('c', 10)).toBe(false);
    now = 20;
    expect(store.remember('a', 30)).toBe(true);
  });

  it('a refusal becomes a DPoP challenge with algs and error="invalid_dpop_proof"', () => {
    const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
    const answer = dpopChallenge(new ResourceServerError('invalid_dpop_proof', 'the DPoP proof was already used'), {
      resourceMetadataUrl: PRM, algorithms: ['ES256', 'EdDSA'],
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['WWW-Authenticate']).toBe(
      `DPoP error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256 EdDSA", resource_metadata="${PRM}"`,
    );
    expect(answer.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof was already used' });
  });
});
