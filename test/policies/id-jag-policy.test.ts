// The ID-JAG grant under the organisation's policy: the access token carries the intersection of what the
// assertion asks and what the person's claims allow, the withheld part audited; a person no policy matches
// gets invalid_grant; a resource without policies is untouched.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addIdJagIssuer, allowClientIdJag } from '../../src/id-jag/service.ts';
import { registerClient } from '../../src/clients/service.ts';
import { linkSubject } from '../../src/id-jag/store.ts';
import { flushAuditWrites } from '../../src/oidc/audit-events.ts';
import { createNotesTestApp, ISSUER, notesResource, type TestApp } from '../helpers/test-app.ts';
import { addAcmeProvider, addMember, allow } from './policy-test-setup.ts';

const IDP = 'https://idp.acme.test';
const NOTES = 'https://mcp.example.com/mcp';
const OPEN = 'https://open.example.com/mcp';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let app: TestApp;
let idpKey: CryptoKey;
let client: { client_id: string; client_secret: string };

const mint = (sub: string, resource = NOTES) =>
  new SignJWT({ sub, resource, client_id: client.client_id, jti: crypto.randomUUID(), scope: 'notes:read notes:write' })
    .setProtectedHeader({ alg: 'ES256', typ: 'oauth-id-jag+jwt' }).setIssuer(IDP).setAudience(ISSUER)
    .setIssuedAt().setExpirationTime('5m').sign(idpKey);
const exchange = async (sub: string, resource = NOTES) => app.http().post('/token').type('form')
  .auth(client.client_id, client.client_secret).send({ grant_type: JWT_BEARER, assertion: await mint(sub, resource), scope: 'notes:read notes:write' });

beforeAll(async () => {
  ({ app } = await createNotesTestApp(NOTES));
  await app.addResource(notesResource(OPEN));
  const pair = await generateKeyPair('ES256');
  idpKey = pair.privateKey;
  await addIdJagIssuer(app.db, { issuer: IDP, jwks: { keys: [await exportJWK(pair.publicKey)] } }, CLI_OPERATOR);
  const acme = await addAcmeProvider(app.db);
  const contractor = await addMember(app, acme.id, { groups: ['contractors'] });
  const stranger = await app.addUser();
  await linkSubject(app.db, IDP, 'contractor', contractor.id);
  await linkSubject(app.db, IDP, 'stranger', stranger.id);
  const registered = await registerClient(app.db, { kind: 'confidential', name: 'Enterprise agent', redirectUris: ['https://agent.example/cb'] }, CLI_OPERATOR);
  await allowClientIdJag(app.db, registered.clientId, CLI_OPERATOR);
  client = { client_id: registered.clientId, client_secret: registered.clientSecret! };
  await allow(app.db, NOTES, 'groups=contractors', 'read');
});
afterAll(async () => { await app.close(); });

describe('the ID-JAG grant under a policy', () => {
  it('issues only the intersection with what policy allows, and audits what it withheld', async () => {
    const response = await exchange('contractor');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.scope).toBe('notes:read');
    const introspected = await app.http().post('/token/introspection').auth(client.client_id, client.client_secret)
      .type('form').send({ token: response.body.access_token });
    expect(introspected.body).toMatchObject({ active: true, scope: 'notes:read' });
    await flushAuditWrites();
    const [withheld] = (await listAuditEvents(app.db, { type: 'policy.scope_withheld' })).filter((e) => e.client_id === client.client_id);
    expect(withheld).toMatchObject({ resource: NOTES, scopes: 'notes:write' });
    expect(withheld?.details).toMatchObject({ at: 'id_jag', providers: ['acme'], claim: 'groups', value: 'contractors', max_risk: 'read' });
  });

  it('refuses a person no policy matches with invalid_grant, audited as a refusal', async () => {
    const response = await exchange('stranger');
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_grant');
    await flushAuditWrites();
    const refused = (await listAuditEvents(app.db, { type: 'id_jag.refused' })).map((e) => (e.details as { reason: string }).reason);
    expect(refused).toContain('policy_refused');
    const policy = await listAuditEvents(app.db, { type: 'policy.resource_refused' });
    expect(policy.map((e) => (e.details as { at: string }).at)).toContain('id_jag');
  });

  it('leaves a resource without policies as it was', async () => {
    const response = await exchange('stranger', OPEN);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.scope).toBe('notes:read notes:write');
  });
});
