// What the policy suites share: an organisation's identity provider, people linked to it with the claims
// the sign-in flow stores (federated_identities.claims), and policies added through the service.
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import type { Db } from '../../src/db/db.ts';
import { addIdentityProvider } from '../../src/federation/service.ts';
import { insertFederatedIdentity } from '../../src/federation/store.ts';
import { addPolicy } from '../../src/policies/service.ts';
import { ISSUER, TEST_SECRETS, type TestApp } from '../helpers/test-app.ts';

export async function addAcmeProvider(db: Db, name = 'acme') {
  return addIdentityProvider({ db, keyEncryptionSecret: TEST_SECRETS.keyEncryptionSecret, issuer: ISSUER }, {
    name, issuer: `https://${name}.idp.example`, clientId: 'cid', clientSecret: 'secret', groupsClaim: 'roles',
  }, CLI_OPERATOR);
}

/** A person whose account is linked to `providerId` with these upstream claims. */
export async function addMember(app: Pick<TestApp, 'db' | 'addUser'>, providerId: string, claims: Record<string, unknown>, email?: string) {
  const account = await app.addUser(email);
  await insertFederatedIdentity(app.db, {
    providerId, subject: `sub-${account.id}`, accountId: account.id, email: account.email, claims,
  });
  return account;
}

export const allow = (db: Db, resource: string, claim: string, maxRisk: string) =>
  addPolicy(db, { resource, claim, maxRisk }, CLI_OPERATOR);
