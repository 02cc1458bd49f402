// A resource's DPoP setting (migration 0021): set and shown by `resource add/update/show/list --dpop` and the
// admin API, validated by the service and the database, audited; and at the token endpoint the jwt-bearer grant,
// which issues no DPoP-bound tokens, gets none for a DPoP-required resource, with a proof or without.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { listAuditEvents } from '../../src/audit/store.ts';
import { registerClient } from '../../src/clients/service.ts';
import { addIdJagIssuer, allowClientIdJag } from '../../src/id-jag/service.ts';
import { linkSubject } from '../../src/id-jag/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { registerResource, resourceServiceDeps } from '../../src/resources/service.ts';
import { createAdminTestApp } from '../admin/helpers.ts';
import { runCommand } from '../helpers/cli-in-process.ts';
import { createTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => { app = await createTestApp({ RESOURCE_CACHE_SECONDS: '0' }); });
afterAll(async () => { await app.close(); });

const add = (uri: string, ...extra: string[]) =>
  runCommand(app.db, ['resource', 'add', '--uri', uri, '--name', 'Strict', '--scope', 'notes:read=read', '--no-check', '--json', ...extra]);

describe('the --dpop setting of a resource', () => {
  it('defaults to allowed; --dpop required is stored, printed as JSON and listed', async () => {
    const plain = await add('https://plain.example.com/mcp') as { resource: Record<string, unknown> };
    expect(plain.resource.dpop).toBe('allowed');
    const strict = await add('https://strict.example.com/mcp', '--dpop', 'required') as { resource: Record<string, unknown> };
    expect(strict.resource).toMatchObject({ uri: 'https://strict.example.com/mcp', dpop: 'required' });
    const { rows } = await app.db.query<{ uri: string; dpop: string }>(
      "SELECT uri, dpop FROM resources WHERE uri LIKE 'https://%.example.com/mcp' AND uri IN ($1, $2) ORDER BY uri",
      ['https://plain.example.com/mcp', 'https://strict.example.com/mcp']);
    expect(rows).toEqual([{ uri: 'https://plain.example.com/mcp', dpop: 'allowed' }, { uri: 'https://strict.example.com/mcp', dpop: 'required' }]);
    const listed = await runCommand(app.db, ['resource', 'list', '--json']) as { resources: { uri: string; dpop: string }[] };
    expect(listed.resources.find((r) => r.uri === 'https://strict.example.com/mcp')?.dpop).toBe('required');
    const shown = await runCommand(app.db, ['resource', 'show', '--uri', 'https://STRICT.example.com/mcp/', '--json']) as { resource: Record<string, unknown> };
    expect(shown.resource).toMatchObject({ uri: 'https://strict.example.com/mcp', dpop: 'required', scopes: [{ scope: 'notes:read', risk: 'read', description: '' }] });
  });

  it('resource update --dpop changes only that, audited with before and after', async () => {
    await add('https://switch.example.com/mcp', '--ttl', '600');
    const updated = await runCommand(app.db, ['resource', 'update', '--uri', 'https://switch.example.com/mcp', '--dpop', 'required', '--no-check', '--json']) as { resource: Record<string, unknown> };
    expect(updated.resource).toMatchObject({ dpop: 'required', access_token_ttl_seconds: 600, name: 'Strict', scopes: [{ scope: 'notes:read' }], client_access: 'any' });
    const [event] = (await listAuditEvents(app.db, { type: 'resource.changed' })).filter((e) => e.resource === 'https://switch.example.com/mcp').reverse();
    expect(event?.details).toMatchObject({ actor: 'cli', before: { dpop: 'allowed' }, after: { dpop: 'required', access_token_ttl_seconds: 600 } });
    const back = await runCommand(app.db, ['resource', 'update', '--uri', 'https://switch.example.com/mcp', '--dpop', 'allowed', '--no-check', '--json']) as { resource: Record<string, unknown> };
    expect(back.resource.dpop).toBe('allowed');
  });

  it('refuses another value, an update with nothing to change, and an unknown resource; the database refuses one too', async () => {
    await expect(add('https://bad.example.com/mcp', '--dpop', 'sometimes')).rejects.toThrow(UsageError);
    await expect(add('https://bad.example.com/mcp', '--dpop', 'sometimes')).rejects.toThrow(/--dpop must be allowed or required, got "sometimes"/);
    expect((await app.db.query("SELECT 1 FROM resources WHERE uri = 'https://bad.example.com/mcp'")).rowCount).toBe(0);
    await expect(runCommand(app.db, ['resource', 'update', '--uri', 'https://plain.example.com/mcp'])).rejects.toThrow(/nothing to change/);
    await expect(runCommand(app.db, ['resource', 'update', '--uri', 'https://nowhere.example.com/mcp', '--dpop', 'required']))
      .rejects.toMatchObject({ code: 'resource_not_found' });
    // The service's own schema, whichever front end called it (the admin API hands it `dpop` as given).
    await expect(registerResource(resourceServiceDeps(app.db, app.config), { ...notesResource('https://api.example.com/mcp'), dpop: 'always' as never }, CLI_OPERATOR, { check: false }))
      .rejects.toThrow(/dpop/);
    await expect(app.db.query("UPDATE resources SET dpop = 'sometimes' WHERE uri = 'https://plain.example.com/mcp'")).rejects.toThrow(/check constraint/);
  });
});

describe('the jwt-bearer grant and a DPoP-required resource', () => {
  const IDP = 'https://idp.dpop.test';
  const RESOURCE = 'https://strict.example.com/mcp';
  let idpKey: CryptoKey;
  let client: { id: string; secret: string };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    idpKey = pair.privateKey;
    await addIdJagIssuer(app.db, { issuer: IDP, jwks: { keys: [await exportJWK(pair.publicKey)] } }, CLI_OPERATOR);
    const account = await app.addUser();
    await linkSubject(app.db, IDP, 'U1', account.id);
    const registered = await registerClient(app.db, { kind: 'confidential', name: 'Agent', redirectUris: ['https://agent.example/cb'] }, CLI_OPERATOR);
    await allowClientIdJag(app.db, registered.clientId, CLI_OPERATOR);
    client = { id: registered.clientId, secret: registered.clientSecret! };
  });

  const assertion = () => new SignJWT({ sub: 'U1', resource: RESOURCE, client_id: client.id, jti: randomUUID(), scope: 'notes:read' })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(IDP).setAudience(ISSUER)
    .setIssuedAt().setExpirationTime('5m').sign(idpKey);
  const exchange = async (dpop?: string) => {
    const req = app.http().post('/token').type('form').auth(client.id, client.secret);
    return (dpop ? req.set('DPoP', dpop) : req).send({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await assertion() });
  };

  it('without a proof: invalid_dpop_proof in the resource\'s own words (not "unknown resource"), audited', async () => {
    const response = await exchange();
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'invalid_dpop_proof',
      error_description: `resource "${RESOURCE}" accepts only DPoP-bound tokens: send a DPoP proof (RFC 9449) with the token request`,
    });
    await flushAuditWrites();
    const events = (await listAuditEvents(app.db, { type: 'token.dpop_required' })).filter((e) => e.resource === RESOURCE);
    expect(events[0]).toMatchObject({ outcome: 'failure', client_id: client.id, details: { reason: 'no_dpop_proof', grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' } });
  });

  it('with a proof: still refused, since this grant cannot bind the token (no unbound token leaves)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk: JWK = await exportJWK(publicKey);
    const proof = await new SignJWT({ htm: 'POST', htu: `${ISSUER}/token`, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(privateKey);
    const response = await exchange(proof);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_dpop_proof');
    expect(response.body.error_description).toMatch(/the urn:ietf:params:oauth:grant-type:jwt-bearer grant does not issue DPoP-bound tokens$/);
    const events = (await listAuditEvents(app.db, { type: 'token.dpop_required' })).filter((e) => e.resource === RESOURCE);
    expect(events.map((e) => e.details.reason)).toContain('grant_does_not_bind');
    const issued = await app.db.query("SELECT 1 FROM audit_events WHERE event_type = 'token.issued' AND resource = $1", [RESOURCE]);
    expect(issued.rowCount).toBe(0);
  });
});

describe('the admin API and a resource\'s dpop field', () => {
  it('POST and PUT /admin/api/resources set it; PUT without it keeps it; another value is a 400', async () => {
    const admin = await createAdminTestApp();
    try {
      const body = { uri: 'https://api-dpop.example.com/mcp', name: 'API', scopes: [{ scope: 'a:read', risk: 'read' }], dpop: 'required', check: false };
      const created = await admin.api().post('/admin/api/resources').send(body);
      expect(created.status, created.text).toBe(201);
      expect(created.body.resource.dpop).toBe('required');
      const path = `/admin/api/resources/${encodeURIComponent(body.uri)}`;
      const kept = await admin.api().put(path).send({ name: 'API renamed', scopes: body.scopes, check: false });
      expect(kept.status, kept.text).toBe(200);
      expect(kept.body.resource).toMatchObject({ name: 'API renamed', dpop: 'required' });
      const relaxed = await admin.api().put(path).send({ name: 'API', scopes: body.scopes, dpop: 'allowed', check: false });
      expect(relaxed.body.resource.dpop).toBe('allowed');
      const bad = await admin.api().put(path).send({ name: 'API', scopes: body.scopes, dpop: 'sometimes', check: false });
      expect(bad.status).toBe(400);
      expect((await admin.db.query<{ dpop: string }>('SELECT dpop FROM resources WHERE uri = $1', [body.uri])).rows).toEqual([{ dpop: 'allowed' }]);
    } finally {
      await admin.close();
    }
  });
});
