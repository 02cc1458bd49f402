// Introspection mode (RFC 7662) against a local authorization server: opaque tokens, active/inactive,
// the checks on the answer, client_secret_basic, and the short SHA-256-keyed cache.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResourceServer, ResourceServerError, type IntrospectionOptions } from '@portcullis/resource-server';
import { INTROSPECTION_CLIENT, RESOURCE, startFakeAs, type FakeAs } from './fake-as.ts';

let as: FakeAs;
beforeEach(async () => { as = await startFakeAs(); });
afterEach(async () => { await as.close(); });

const kit = (introspection: Partial<IntrospectionOptions> = {}) =>
  createResourceServer({ resource: RESOURCE, issuer: as.issuer, introspection: { ...INTROSPECTION_CLIENT, ...introspection } });

/** Registers an opaque token whose introspection answer is an active access token, with overrides. */
function opaque(overrides: Record<string, unknown> = {}) {
  const token = `opaque-${crypto.randomUUID()}`;
  as.introspection.set(token, {
    active: true, token_type: 'Bearer', client_id: 'client-1', sub: 'user-1', scope: 'notes:read',
    iss: as.issuer, aud: RESOURCE, exp: as.now() + 300, iat: as.now(), ...overrides,
  });
  return token;
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ResourceServerError);
  return error as ResourceServerError;
}

describe('introspection mode', () => {
  it('accepts an active opaque token, authenticating with client_secret_basic', async () => {
    const token = opaque({ scope: 'notes:read notes:write' });
    const info = await kit().verifyAccessToken(token);
    expect(info).toMatchObject({ token, clientId: 'client-1', subject: 'user-1', scopes: ['notes:read', 'notes:write'] });
    expect(info.resource.href).toBe(RESOURCE);
    // RFC 6749 §2.3.1: id and secret are form-encoded before base64 (the secret has a space, ':' and '/').
    const decoded = Buffer.from(as.state.lastIntrospectionAuth.replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('rs-client:rs+secret%3Awith%2Fodd+chars');
    // Discovered from the AS metadata, never tried as a JWT first.
    expect(as.counts).toMatchObject({ metadata: 1, introspection: 1, jwks: 0 });
  });

  it('refuses an inactive or unknown token with invalid_token', async () => {
    const error = await refusal(kit().verifyAccessToken('never-issued'));
    expect(error).toMatchObject({ code: 'invalid_token', message: 'the token is not active' });
    expect((await refusal(kit().verifyAccessToken(opaque({ active: false })))).code).toBe('invalid_token');
  });

  it('checks aud, iss, exp and token_type as returned', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ aud: 'https://other.example.com/mcp' }, 'the token is not for this resource'],
      [{ aud: [RESOURCE, 'https://other.example.com'] }, 'the token is not for this resource only'],
      [{ aud: undefined }, 'the token is not for this resource'],
      [{ iss: 'https://evil.example.com' }, 'the token is from another issuer'],
      [{ exp: as.now() - 60 }, 'the token has expired'],
      [{ exp: undefined }, 'the token has no expiry'],
      // oidc-provider reports refresh tokens without token_type: they must not pass as access tokens.
      [{ token_type: undefined }, 'the token is not a bearer access token'],
      // A DPoP-bound token is refused by verifyAccessToken (bearer semantics; authenticate checks its proof),
      // and one whose token_type does not match its binding is refused either way.
      [{ token_type: 'DPoP', cnf: { jkt: 'x' } }, 'the token is sender-constrained'],
      [{ cnf: { jkt: 'x' } }, 'the token is not a DPoP access token'],
      [{ token_type: 'DPoP' }, 'the token is not a bearer access token'],
    ];
    for (const [overrides, message] of cases) {
      const error = await refusal(kit().verifyAccessToken(opaque(overrides)));
      expect(error, JSON.stringify(overrides)).toMatchObject({ code: 'invalid_token', message });
    }
    await expect(kit().verifyAccessToken(opaque({ aud: [RESOURCE], token_type: 'bearer' }))).resolves.toBeDefined();
  });

  it('caches answers briefly: a revoked token keeps working until the cache entry expires', async () => {
    const server = kit({ cacheTtlSeconds: 0.3 });
    const token = opaque();
    await server.verifyAccessToken(token);
    await server.verifyAccessToken(token);
    expect(as.counts.introspection).toBe(1);
    as.introspection.set(token, { active: false });
    await expect(server.verifyAccessToken(token)).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await refusal(server.verifyAccessToken(token))).code).toBe('invalid_token');
    expect(as.counts.introspection).toBe(2);
  });

  it('a cache lifetime of 0 asks every time, so revocation bites at once', async () => {
    const server = kit({ cacheTtlSeconds: 0 });
    const token = opaque();
    await server.verifyAccessToken(token);
    await server.verifyAccessToken(token);
    expect(as.counts.introspection).toBe(2);
    as.introspection.set(token, { active: false });
    expect((await refusal(server.verifyAccessToken(token))).code).toBe('invalid_token');
  });

  it('never caches past the token expiry', async () => {
    const server = kit({ cacheTtlSeconds: 60 });
    const token = opaque({ exp: as.now() + 1 });
    await server.verifyAccessToken(token);
    // Only Date is faked: sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10_000);
      expect((await refusal(server.verifyAccessToken(token))).message).toBe('the token has expired');
      expect(as.counts.introspection).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an introspection endpoint that fails is a 503, not invalid_token', async () => {
    as.state.introspectionStatus = 500;
    expect((await refusal(kit().verifyAccessToken(opaque()))).code).toBe('temporarily_unavailable');
    as.state.introspectionStatus = 401;
    expect((await refusal(kit().verifyAccessToken(opaque()))).code).toBe('temporarily_unavailable');
  });

  it('uses a configured endpoint without discovery', async () => {
    const server = kit({ endpoint: `${as.issuer}/introspect` });
    await expect(server.verifyAccessToken(opaque())).resolves.toBeDefined();
    expect(as.counts.metadata).toBe(0);
  });
});
