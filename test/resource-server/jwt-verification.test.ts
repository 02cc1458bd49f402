// JWT access-token verification against a local authorization server: every rule of RFC 9068 and the
// MCP token-handling section is tried with a token built to break it.
import { exportSPKI, importJWK, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResourceServer, ResourceServerError, type ResourceServerOptions } from '@portcullis/resource-server';
import { RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

let as: FakeAs;
beforeEach(async () => { as = await startFakeAs(); });
afterEach(async () => { await as.close(); });

const kit = (options: Partial<ResourceServerOptions> = {}) => createResourceServer({ resource: RESOURCE, issuer: as.issuer, ...options });

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ResourceServerError);
  return error as ResourceServerError;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JWT access tokens', () => {
  it('accepts a valid token and returns the auth info', async () => {
    const token = await as.sign({ scope: 'notes:read notes:write' });
    const info = await kit().verifyAccessToken(token);
    expect(info).toMatchObject({
      token, clientId: 'client-1', scopes: ['notes:read', 'notes:write'], subject: 'user-1',
      resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    });
    expect(info.resource.href).toBe('https://mcp.example.com/mcp');
    expect(info.expiresAt).toBeGreaterThan(as.now());
    expect(info.claims.jti).toEqual(expect.any(String));
    expect(info.extra).toEqual({ subject: 'user-1', actsFor: 'person', claims: info.claims });
    expect(info.actsFor).toBe('person');
  });

  it('tells a machine client\'s token (sub = client_id, RFC 9068 §2.2) from a person\'s', async () => {
    const info = await kit().verifyAccessToken(await as.sign({ sub: 'client-1', scope: 'notes:read' }));
    expect(info).toMatchObject({ clientId: 'client-1', subject: 'client-1', actsFor: 'client' });
    expect(info.extra.actsFor).toBe('client');
  });

  it('refuses a token for another resource, and one for several audiences', async () => {
    const server = kit();
    expect((await refusal(server.verifyAccessToken(await as.sign({ aud: 'https://other.example.com/mcp' })))).code).toBe('invalid_token');
    expect((await refusal(server.verifyAccessToken(await as.sign({ aud: 'https://mcp.example.com/mcp/other' })))).code).toBe('invalid_token');
    const multi = await refusal(server.verifyAccessToken(await as.sign({ aud: [RESOURCE, 'https://other.example.com'] })));
    expect(multi.code).toBe('invalid_token');
    expect(multi.message).toMatch(/only/);
    expect((await refusal(server.verifyAccessToken(await as.sign({ aud: undefined })))).code).toBe('invalid_token');
  });

  it('accepts a one-element audience array, and the resource with a trailing slash or upper-case host', async () => {
    const server = kit({ resource: 'https://MCP.example.com/mcp/' });
    await expect(server.verifyAccessToken(await as.sign({ aud: [RESOURCE] }))).resolves.toMatchObject({ clientId: 'client-1' });
    await expect(server.verifyAccessToken(await as.sign({ aud: `${RESOURCE}/` }))).resolves.toMatchObject({ clientId: 'client-1' });
  });

  it('refuses a token from another issuer', async () => {
    const error = await refusal(kit().verifyAccessToken(await as.sign({ iss: 'https://evil.example.com' })));
    expect(error).toMatchObject({ code: 'invalid_token', message: 'the token is from another issuer', status: 401 });
  });

  it('refuses a token whose typ is not at+jwt (an ID token, or none)', async () => {
    for (const typ of ['JWT', 'id_token+jwt', undefined]) {
      const error = await refusal(kit().verifyAccessToken(await as.sign({}, { typ })));
      expect(error.message).toMatch(/at\+jwt/);
    }
    // RFC 9068 allows the full media type too.
    await expect(kit().verifyAccessToken(await as.sign({}, { typ: 'application/at+jwt' }))).resolves.toBeDefined();
  });

  it('refuses alg none and an HS256 token keyed with the public key', async () => {
    const [key] = as.keys;
    const payload = { iss: as.issuer, aud: RESOURCE, sub: 'u', client_id: 'c', exp: as.now() + 60 };
    const none = `${b64({ alg: 'none', typ: 'at+jwt', kid: key!.kid })}.${b64(payload)}.`;
    expect((await refusal(kit().verifyAccessToken(none))).code).toBe('invalid_token');

    const pem = await exportSPKI(await importJWK(key!.jwk, 'ES256') as CryptoKey);
    for (const secret of [pem, JSON.stringify(key!.jwk)]) {
      const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key!.kid }).sign(new TextEncoder().encode(secret));
      const error = await refusal(kit().verifyAccessToken(hs));
      expect(error).toMatchObject({ code: 'invalid_token', message: 'the token signing algorithm is not allowed' });
    }
  });

  it('refuses a symmetric or none algorithm in the options at start', () => {
    for (const algorithms of [['HS256'], ['none'], ['ES256', 'HS512'], []]) {
      expect(() => kit({ algorithms })).toThrow(TypeError);
    }
  });

  it('refuses a token signed with an algorithm left off the allow-list', async () => {
    const rsa = await as.addKey('RS256');
    const token = await as.sign({}, {}, rsa);
    await expect(kit().verifyAccessToken(token)).resolves.toBeDefined();
    expect((await refusal(kit({ algorithms: ['ES256'] }).verifyAccessToken(token))).code).toBe('invalid_token');
  });

  it('refuses a forged signature', async () => {
    const token = await as.sign();
    const [header, payload] = token.split('.');
    const forged = `${header}.${b64({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: 'notes:delete' })}.${token.split('.')[2]}`;
    expect((await refusal(kit().verifyAccessToken(forged))).message).toBe('the token signature is invalid');
  });

  it('applies the clock tolerance to exp and nbf (5 s by default, configurable)', async () => {
    const server = kit();
    expect((await refusal(server.verifyAccessToken(await as.sign({ exp: as.now() - 30 })))).message).toBe('the token has expired');
    expect((await refusal(server.verifyAccessToken(await as.sign({ nbf: as.now() + 30 })))).message).toBe('the token is not valid yet');
    await expect(server.verifyAccessToken(await as.sign({ exp: as.now() - 2 }))).resolves.toBeDefined();
    await expect(server.verifyAccessToken(await as.sign({ nbf: as.now() + 2 }))).resolves.toBeDefined();
    const strict = kit({ clockToleranceSeconds: 0 });
    expect((await refusal(strict.verifyAccessToken(await as.sign({ exp: as.now() - 2 })))).code).toBe('invalid_token');
    const lenient = kit({ clockToleranceSeconds: 60 });
    await expect(lenient.verifyAccessToken(await as.sign({ exp: as.now() - 30 }))).resolves.toBeDefined();
  });

  it('refuses a sender-constrained token (cnf: DPoP jkt or mTLS x5t#S256) sent as a plain bearer token', async () => {
    const server = kit();
    for (const cnf of [{ jkt: 'Zm9vYmFyLWRwb3Ata2V5LXRodW1icHJpbnQtMzJieXRl' }, { 'x5t#S256': 'Y2VydGlmaWNhdGUtdGh1bWJwcmludC0zMi1ieXRlcw' }]) {
      const token = await as.sign({ cnf });
      const error = await server.authenticate({ authorization: `Bearer ${token}` }).then(() => undefined, (caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'invalid_token', message: 'the token is sender-constrained' });
      const answer = server.challenge(error);
      expect(answer.status).toBe(401);
      expect(answer.headers['WWW-Authenticate']).toContain('error="invalid_token"');
    }
    // The same claims without cnf verify: the refusal is the binding, nothing else.
    await expect(server.verifyAccessToken(await as.sign())).resolves.toBeDefined();
  });

  it('refuses a token without exp or client_id, and garbage', async () => {
    expect((await refusal(kit().verifyAccessToken(await as.sign({ exp: undefined })))).code).toBe('invalid_token');
    expect((await refusal(kit().verifyAccessToken(await as.sign({ client_id: undefined })))).message).toBe('the token has no client_id');
    expect((await refusal(kit().verifyAccessToken('not-a-jwt'))).message).toBe('the token is malformed');
  });
});

describe('keys and discovery', () => {
  it('fetches metadata and JWKS once, and an unknown kid triggers one refresh, not a storm', async () => {
    const server = kit({ jwks: { cooldownMs: 300 } });
    await Promise.all(Array.from({ length: 10 }, async () => server.verifyAccessToken(await as.sign())));
    expect(as.counts).toMatchObject({ metadata: 1, jwks: 1 });

    // Right after a fetch, an unknown kid does not refetch (cooldown): all are refused, no new fetch.
    const rotated = await as.addKey();
    const early = await Promise.all(Array.from({ length: 20 }, async () => refusal(server.verifyAccessToken(await as.sign({}, {}, rotated)))));
    expect(early.every((error) => error.code === 'invalid_token')).toBe(true);
    expect(as.counts.jwks).toBe(1);

    // After the cooldown, a burst of tokens with the new kid costs exactly one refetch and all verify.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const tokens = await Promise.all(Array.from({ length: 20 }, () => as.sign({}, {}, rotated)));
    await Promise.all(tokens.map((token) => server.verifyAccessToken(token)));
    expect(as.counts.jwks).toBe(2);

    // Random kids right after: refused, still no further fetch.
    for (let i = 0; i < 20; i += 1) {
      expect((await refusal(server.verifyAccessToken(await as.sign({}, { kid: `random-${i}` })))).code).toBe('invalid_token');
    }
    expect(as.counts).toMatchObject({ metadata: 1, jwks: 2 });
  });

  it('stops accepting a key the issuer unpublished within jwks.cacheMaxAgeMs, even a token it verified before', async () => {
    const server = kit({ jwks: { cacheMaxAgeMs: 1000 }, verifiedTokenCacheSeconds: 600 });
    const token = await as.sign();
    await server.verifyAccessToken(token);
    // Still inside the bound: answered from the cache, no refetch.
    await server.verifyAccessToken(token);
    expect(as.counts.jwks).toBe(1);
    // The issuer retires its key: the JWKS now publishes only a new one.
    await as.addKey();
    const retired = as.keys.shift()!;
    expect(as.keys.map((key) => key.kid)).not.toContain(retired.kid);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await refusal(server.verifyAccessToken(token))).message).toBe('no signing key of the authorization server matches the token');
    expect(as.counts.jwks).toBe(2);
  });

  it('trusts a fetched key set for 60 s by default', async () => {
    const server = kit();
    const token = await as.sign();
    await server.verifyAccessToken(token);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 55_000);
      await server.verifyAccessToken(await as.sign());
      expect(as.counts.jwks).toBe(1);
      vi.setSystemTime(Date.now() + 10_000);
      await server.verifyAccessToken(await as.sign());
      expect(as.counts.jwks).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('falls back to openid-configuration when the RFC 8414 document is missing', async () => {
    as.state.metadataStatus = 404;
    await expect(kit().verifyAccessToken(await as.sign())).resolves.toBeDefined();
    expect(as.counts).toMatchObject({ metadata: 1, openid: 1 });
  });

  it('refuses metadata whose issuer differs from the configured one (503, never trusts its keys)', async () => {
    as.state.metadataIssuer = 'https://evil.example.com';
    const error = await refusal(kit().verifyAccessToken(await as.sign()));
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
    expect(error.message).toMatch(/issuer/);
    expect(as.counts.jwks).toBe(0);
  });

  it('answers 503 (temporarily_unavailable) when the authorization server is unreachable', async () => {
    const token = await as.sign();
    const down = createResourceServer({ resource: RESOURCE, issuer: 'http://127.0.0.1:9', httpTimeoutMs: 500 });
    expect((await refusal(down.verifyAccessToken(token))).code).toBe('temporarily_unavailable');
  });
});

describe('the verified-token cache', () => {
  it('serves a repeated token without a new signature check, but never past its expiry', async () => {
    const server = kit({ clockToleranceSeconds: 0 });
    const token = await as.sign({ exp: as.now() + 5 });
    const first = await server.verifyAccessToken(token);
    // Only Date is faked: sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2_000);
      expect(await server.verifyAccessToken(token)).toBe(first); // the cached result itself
      vi.setSystemTime(Date.now() + 10_000);
      expect((await refusal(server.verifyAccessToken(token))).message).toBe('the token has expired');
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps nothing when disabled, and never serves a refused token from it', async () => {
    const server = kit({ verifiedTokenCacheSeconds: 0 });
    const token = await as.sign({});
    expect(await server.verifyAccessToken(token)).not.toBe(await server.verifyAccessToken(token));
    const cached = kit();
    const wrongAudience = await as.sign({ aud: 'https://other.example.com/mcp' });
    expect((await refusal(cached.verifyAccessToken(wrongAudience))).code).toBe('invalid_token');
    expect((await refusal(cached.verifyAccessToken(wrongAudience))).code).toBe('invalid_token');
  });
});
