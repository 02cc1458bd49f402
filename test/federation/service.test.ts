// The identity providers service directly (as the console calls it): input the command line cannot carry
// (NUL bytes, huge values) refused before anything is written, and the sealed secret opening again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { openClientSecret } from '../../src/federation/secret.ts';
import { addIdentityProvider, listIdentityProviders } from '../../src/federation/service.ts';
import { findProviderByName } from '../../src/federation/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { ISSUER, TEST_SECRETS } from '../helpers/test-app.ts';

let testDb: TestDb;
beforeAll(async () => { testDb = await createMigratedTestDb(); });
afterAll(async () => { await testDb.cleanup(); });
const deps = () => ({ db: testDb.db, keyEncryptionSecret: TEST_SECRETS.keyEncryptionSecret, issuer: ISSUER });
const base = { name: 'corp', preset: 'google', clientId: 'cid', clientSecret: 'the-secret' };

describe('addIdentityProvider', () => {
  it.each([
    ['a NUL in the secret', { clientSecret: 'a\u0000b' }, 'the client secret contains a control character'],
    ['a NUL in the client id', { clientId: 'a\u0000b' }, 'the client id contains a control character'],
    ['a NUL in a domain', { domains: ['acme\u0000.example'] }, 'the domain contains a control character'],
    ['a huge secret', { clientSecret: 'x'.repeat(100_000) }, 'the client secret is longer than 2000 characters'],
    ['a huge list of domains', { domains: Array.from({ length: 101 }, (_, i) => `d${i}.example`) }, 'at most 100 domains'],
    ['a scope with a space', { scopes: ['openid email'] }, 'a scope is printable ASCII'],
    ['a non-boolean flag', { ssoOnly: 'yes' }, 'expected boolean'],
  ])('refuses %s and writes nothing', async (_what, change, message) => {
    await expect(addIdentityProvider(deps(), { ...base, ...change }, CLI_OPERATOR)).rejects.toThrow(message);
    expect(await listIdentityProviders(testDb.db)).toEqual([]);
  });

  it('seals the secret so that only KEY_ENCRYPTION_SECRET opens it', async () => {
    await addIdentityProvider(deps(), base, CLI_OPERATOR);
    const stored = await findProviderByName(testDb.db, 'corp');
    expect(stored?.clientSecretJwe).not.toContain('the-secret');
    expect(await openClientSecret(stored!.clientSecretJwe, TEST_SECRETS.keyEncryptionSecret)).toBe('the-secret');
    await expect(openClientSecret(stored!.clientSecretJwe, 'another-secret-of-enough-length-000')).rejects.toThrow();
  });

  it('refuses a second provider for a domain with a coded 409 error', async () => {
    await addIdentityProvider(deps(), { ...base, name: 'one', domains: ['one.example'] }, CLI_OPERATOR);
    const refused = await addIdentityProvider(deps(), { ...base, name: 'two', domains: ['ONE.example'] }, CLI_OPERATOR).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'domain_claimed', status: 409 });
  });
});

describe('two operators at once', () => {
  it('gives the loser of a race for one domain the coded 409, never a 500, and one provider owns it', async () => {
    const outcomes = await Promise.allSettled(['race-a', 'race-b'].map((name) =>
      addIdentityProvider(deps(), { ...base, name, domains: ['race.example'] }, CLI_OPERATOR)));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'domain_claimed', status: 409 });
    const { rows } = await testDb.db.query("SELECT provider_id FROM identity_provider_domains WHERE domain = 'race.example'");
    expect(rows).toHaveLength(1);
  });
});
