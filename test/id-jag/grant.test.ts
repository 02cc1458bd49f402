// The jwt-bearer grant at the token endpoint (src/id-jag/grant.ts) against the real app: an IdP stand-in
// mints ID-JAGs with jose; a valid one yields an introspectable access token, refusals are OAuth errors and audited.
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addIdJagIssuer, allowClientIdJag, allowIrreversibleIdJagScopes, denyIrreversibleIdJagScopes } from '../../src/id-jag/service.ts';
import { registerClient } from '../../src/clients/service.ts';
import { linkSubject } from '../../src/id-jag/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { createNotesTestApp, ISSUER, type TestApp } from '../helpers/test-app.ts';

const IDP = 'https://idp.acme.test';
const RESOURCE = 'https://mcp.example.com/mcp';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let app: TestApp;
let idpKey: CryptoKey;
let client: { client_id: string; client_secret: string };
let accountId: string;

async function mint(over: Record<string, unknown> = {}) {
  return new SignJWT({ sub: 'U0194', resource: RESOURCE, client_id: client.client_id, jti: crypto.randomUUID(), scope: 'notes:read notes:write notes:delete', ...over })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(IDP).setAudience(ISSUER)
    .setIssuedAt().setExpirationTime('5m').sign(idpKey);
}
const baseClaims = (over: Record<string, unknown> = {}) => ({
  iss: IDP, aud: ISSUER, sub: 'U0194', resource: RESOURCE, client_id: client.client_id, jti: crypto.randomUUID(), scope: 'notes:read', ...over,
});
async function signed(over: Record<string, unknown>, opts: { key?: CryptoKey; typ?: string; iat?: number; exp?: number } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(baseClaims(over)).setProtectedHeader({ alg: 'ES256', typ: opts.typ ?? 'oauth-id-jag+jwt' })
    .setIssuedAt(opts.iat ?? now).setExpirationTime(opts.exp ?? now + 300).sign(opts.key ?? idpKey);
}
const exchange = (form: Record<string, string>, auth: [string, string] | null = [client.client_id, client.client_secret]) => {
  const req = app.http().post('/token').type('form');
  return (auth ? req.auth(auth[0], auth[1]) : req).send({ grant_type: JWT_BEARER, ...form });
};

beforeAll(async () => {
  ({ app } = await createNotesTestApp(RESOURCE));
  const pair = await generateKeyPair('ES256');
  idpKey = pair.privateKey;
  await addIdJagIssuer(app.db, { issuer: IDP, jwks: { keys: [await exportJWK(pair.publicKey)] } }, CLI_OPERATOR);
  accountId = (await app.addUser()).id;
  await linkSubject(app.db, IDP, 'U0194', accountId);
  const registered = await registerClient(app.db, { kind: 'confidential', name: 'Enterprise agent', redirectUris: ['https://agent.example/cb'] }, CLI_OPERATOR);
  await allowClientIdJag(app.db, registered.clientId, CLI_OPERATOR);
  client = { client_id: registered.clientId, client_secret: registered.clientSecret! };
});
afterAll(async () => { await app.close(); });

describe('jwt-bearer grant (ID-JAG)', () => {
  it('is advertised in grant_types_supported', async () => {
    const metadata = await app.http().get('/.well-known/oauth-authorization-server');
    expect(metadata.body.grant_types_supported).toContain(JWT_BEARER);
    expect(metadata.body.authorization_grant_profiles_supported).toEqual(['urn:ietf:params:oauth:grant-profile:id-jag']);
  });

  it('exchanges a valid assertion for an access token (scopes asked for, no refresh token), audited with issuer and subject', async () => {
    const response = await exchange({ assertion: await mint(), scope: 'notes:read notes:write' });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'notes:read notes:write' });
    expect(response.body.refresh_token).toBeUndefined();
    await flushAuditWrites();
    const events = await listAuditEvents(app.db, { type: 'id_jag.exchanged' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ client_id: client.client_id, resource: RESOURCE, account_id: accountId });
    expect(events[0]!.details).toMatchObject({ issuer: IDP, subject: 'U0194' });
  });

  it('refuses replayed, misdirected, stale, forged, unsigned and HS256 assertions and irreversible scopes, each audited; a client without its secret', async () => {
    const assertion = await mint();
    const now = Math.floor(Date.now() / 1000);
    const { privateKey: foreignKey } = await generateKeyPair('ES256');
    expect((await exchange({ assertion })).status).toBe(200);
    const cases: [string, Promise<{ status: number; body: { error?: string } }>, number, string, string][] = [
      ['replay', exchange({ assertion }), 400, 'invalid_grant', 'replayed'],
      ['unknown resource', exchange({ assertion: await mint({ resource: 'https://other.example/mcp' }) }), 400, 'invalid_grant', 'unknown_resource'],
      ['wrong client', exchange({ assertion: await mint({ client_id: 'someone-else' }) }), 400, 'invalid_grant', 'client_mismatch'],
      ['irreversible', exchange({ assertion: await mint(), scope: 'notes:delete' }), 400, 'invalid_scope', 'irreversible_scope'],
      ['expired', exchange({ assertion: await signed({}, { exp: now - 60, iat: now - 120 }) }), 400, 'invalid_grant', 'claim_exp'],
      ['wrong audience', exchange({ assertion: await signed({ aud: 'https://elsewhere.example' }) }), 400, 'invalid_grant', 'claim_aud'],
      ['foreign key', exchange({ assertion: await signed({}, { key: foreignKey }) }), 400, 'invalid_grant', 'err_jws_signature_verification_failed'],
      ['wrong typ', exchange({ assertion: await signed({}, { typ: 'JWT' }) }), 400, 'invalid_grant', 'claim_typ'],
      ['untrusted issuer', exchange({ assertion: await signed({ iss: 'https://evil.example' }) }), 400, 'invalid_grant', 'untrusted_issuer'],
      ['alg none', exchange({ assertion: new UnsecuredJWT(baseClaims()).setIssuedAt().setExpirationTime('5m').encode() }), 400, 'invalid_grant', 'err_jose_alg_not_allowed'],
      ['HS256', exchange({ assertion: await new SignJWT(baseClaims()).setProtectedHeader({ alg: 'HS256', typ: 'oauth-id-jag+jwt' })
        .setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32))) }), 400, 'invalid_grant', 'err_jose_alg_not_allowed'],
    ];
    for (const [name, pending, status, error, reason] of cases) {
      const response = await pending;
      expect([name, response.status, response.body.error]).toEqual([name, status, error]);
      const refused = await listAuditEvents(app.db, { type: 'id_jag.refused' });
      expect(refused.map((e) => e.details.reason), name).toContain(reason);
      expect(refused.every((e) => e.client_id === client.client_id && e.outcome === 'failure'), name).toBe(true);
    }
    // The client named without its secret: oidc-provider's client authentication refuses it first.
    const anonymous = await exchange({ assertion: await mint(), client_id: client.client_id }, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    // A public client cannot be given the grant at all (allowClientIdJag refuses it).
  });

  it('refuses an assertion granting a scope the resource does not declare (invalid_grant), audited', async () => {
    const response = await exchange({ assertion: await mint({ scope: 'notes:read admin:everything' }) });
    expect([response.status, response.body.error]).toEqual([400, 'invalid_grant']);
    const refused = await listAuditEvents(app.db, { type: 'id_jag.refused' });
    expect(refused.map((e) => e.details.reason)).toContain('unknown_scope');
  });

  it('lets irreversible scopes through only while the operator allows it for the resource; such a token lives five minutes', async () => {
    await allowIrreversibleIdJagScopes(app.db, RESOURCE, CLI_OPERATOR);
    try {
      const allowed = await exchange({ assertion: await mint(), scope: 'notes:read notes:delete' });
      expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
      expect(allowed.body.scope).toBe('notes:read notes:delete');
      expect(allowed.body.expires_in).toBeLessThanOrEqual(300);
      const introspected = await app.http().post('/token/introspection').type('form')
        .auth(client.client_id, client.client_secret).send({ token: allowed.body.access_token });
      expect(introspected.body).toMatchObject({ active: true, scope: 'notes:read notes:delete', aud: RESOURCE });
      // Not asked for: the assertion's irreversible scope comes through too, as the organisation decided.
      expect((await exchange({ assertion: await mint() })).body.scope).toBe('notes:read notes:write notes:delete');
    } finally {
      await denyIrreversibleIdJagScopes(app.db, RESOURCE, CLI_OPERATOR);
    }
    const refused = await exchange({ assertion: await mint(), scope: 'notes:read notes:delete' });
    expect([refused.status, refused.body.error]).toEqual([400, 'invalid_scope']);
    expect((await exchange({ assertion: await mint() })).body.scope).toBe('notes:read notes:write');
    await flushAuditWrites();
    const changes = [
      ...await listAuditEvents(app.db, { type: 'id_jag_resource.irreversible_allowed' }),
      ...await listAuditEvents(app.db, { type: 'id_jag_resource.irreversible_denied' }),
    ];
    expect(changes.map((e) => [e.event_type, e.resource, e.actor_id])).toEqual(expect.arrayContaining([
      ['id_jag_resource.irreversible_allowed', RESOURCE, 'cli'], ['id_jag_resource.irreversible_denied', RESOURCE, 'cli'],
    ]));
  });

  it('refuses a missing, oversized, malformed or NUL-carrying assertion with an OAuth error, never a 500', async () => {
    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['not a JWT', { assertion: 'not-a-jwt' }],
      ['three dots of garbage', { assertion: 'a.b.c' }],
      ['oversized', { assertion: `${'A'.repeat(20_000)}.${'B'.repeat(20_000)}.C` }],
      ['NUL byte', { assertion: `${(await mint()).slice(0, 10)}\u0000rest` }],
    ];
    for (const [name, form] of cases) {
      const response = await exchange(form);
      expect([name, response.status]).toEqual([name, 400]);
      expect(['invalid_request', 'invalid_grant'], name).toContain(response.body.error);
    }
    const { rows } = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM id_jag_used_jtis');
    const before = rows[0]!.n;
    await exchange({ assertion: 'a.b.c' });
    const after = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM id_jag_used_jtis');
    expect(after.rows[0]!.n).toBe(before);
  });

  it('refuses to give the grant to a public client', async () => {
    const open = await registerClient(app.db, { kind: 'public', name: 'Public app', redirectUris: ['http://127.0.0.1:9/cb'] }, CLI_OPERATOR);
    await expect(allowClientIdJag(app.db, open.clientId, CLI_OPERATOR)).rejects.toMatchObject({ code: 'client_not_found' });
  });
});
