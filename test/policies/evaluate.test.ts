// The policy rule on its own and over the database: which claim spellings match, the highest max risk
// among matches, refusal when none matches, a disabled provider's claims counting for nothing, and the
// service refusing input that bypasses the CLI's parser (a NUL from the console) with nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { CLI_OPERATOR } from '../../src/audit/operator.ts';
import { addAccount } from '../../src/accounts/store.ts';
import { insertFederatedIdentity } from '../../src/federation/store.ts';
import { updateIdentityProvider } from '../../src/federation/service.ts';
import { decidePolicy, emailDomainOf, policyAllows } from '../../src/policies/evaluate.ts';
import { addPolicy, decidePolicyFor } from '../../src/policies/service.ts';
import type { Policy } from '../../src/policies/store.ts';
import { addResource } from '../../src/resources/store.ts';
import { notesResource, PASSWORD, ISSUER, TEST_SECRETS } from '../helpers/test-app.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';
import { addAcmeProvider } from './policy-test-setup.ts';

const NOTES = 'https://mcp.example.com/mcp';
const policy = (claim: string, value: string, maxRisk: Policy['maxRisk'], id = `pol_${claim}${value}`): Policy =>
  ({ id, resourceUri: NOTES, claim, value, maxRisk, createdAt: new Date(0) });
const subject = (claims: Record<string, unknown>, email = 'a@example.com') => ({ email, identities: [{ providerName: 'acme', claims }] });

describe('decidePolicy', () => {
  it('is unrestricted without policies', () => {
    expect(decidePolicy([], subject({}))).toEqual({ kind: 'unrestricted' });
  });

  it('matches a string claim, a member of an array claim, and a number or boolean by its text', () => {
    const rules = [policy('department', 'finance', 'write'), policy('groups', 'ops', 'irreversible'), policy('level', '3', 'read'), policy('email_verified', 'true', 'read')];
    expect(decidePolicy(rules, subject({ department: 'finance' }))).toMatchObject({ kind: 'allowed', maxRisk: 'write' });
    expect(decidePolicy(rules, subject({ groups: ['staff', 'ops'] }))).toMatchObject({ kind: 'allowed', maxRisk: 'irreversible' });
    expect(decidePolicy(rules, subject({ level: 3 }))).toMatchObject({ kind: 'allowed', maxRisk: 'read' });
    expect(decidePolicy(rules, subject({ email_verified: true }))).toMatchObject({ kind: 'allowed', maxRisk: 'read' });
    // Near misses: another case, a substring, an object, a claim of another name.
    for (const claims of [{ department: 'Finance' }, { groups: ['opsx'] }, { groups: 'ops-team' }, { department: { name: 'finance' } }, { dept: 'finance' }]) {
      expect(decidePolicy(rules, subject(claims))).toMatchObject({ kind: 'refused', providers: ['acme'] });
    }
  });

  it('gives the highest max risk among the matching policies, naming that policy', () => {
    const rules = [policy('groups', 'staff', 'read'), policy('groups', 'ops', 'write')];
    const decision = decidePolicy(rules, subject({ groups: ['staff', 'ops'] }));
    expect(decision).toMatchObject({ kind: 'allowed', maxRisk: 'write', policy: { value: 'ops' } });
    expect(policyAllows(decision, 'write')).toBe(true);
    expect(policyAllows(decision, 'irreversible')).toBe(false);
    expect(policyAllows({ kind: 'refused', policies: rules, providers: [] }, 'read')).toBe(false);
  });

  it('matches `domain` on the email domain in the one host form (case, trailing dot, IDN)', () => {
    expect(emailDomainOf('Someone@ACME.Example.')).toBe('acme.example');
    expect(emailDomainOf('x@Bücher.example')).toBe('xn--bcher-kva.example');
    const rules = [policy('domain', 'xn--bcher-kva.example', 'write')];
    expect(decidePolicy(rules, { email: 'x@BÜCHER.example', identities: [] })).toMatchObject({ kind: 'allowed', maxRisk: 'write' });
    expect(decidePolicy(rules, { email: 'x@sub.xn--bcher-kva.example', identities: [] })).toMatchObject({ kind: 'refused' });
  });
});

describe('over the database', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createMigratedTestDb();
    await addResource(testDb.db, notesResource(NOTES), 3600);
  });
  afterAll(async () => { await testDb.cleanup(); });

  it("reads policies per call, and ignores the claims of a disabled provider's identities", async () => {
    const acme = await addAcmeProvider(testDb.db);
    const account = await addAccount(testDb.db, { email: 'p@example.com', password: PASSWORD });
    await insertFederatedIdentity(testDb.db, { providerId: acme.id, subject: 's1', accountId: account.id, email: account.email, claims: { groups: ['ops'] } });
    expect(await decidePolicyFor(testDb.db, account.id, NOTES)).toEqual({ kind: 'unrestricted' });
    await addPolicy(testDb.db, { resource: NOTES, claim: 'groups=ops', maxRisk: 'write' }, CLI_OPERATOR);
    expect(await decidePolicyFor(testDb.db, account.id, NOTES)).toMatchObject({ kind: 'allowed', maxRisk: 'write', providers: ['acme'] });
    await updateIdentityProvider({ db: testDb.db, keyEncryptionSecret: TEST_SECRETS.keyEncryptionSecret, issuer: ISSUER }, { name: 'acme', disabled: true }, CLI_OPERATOR);
    expect(await decidePolicyFor(testDb.db, account.id, NOTES)).toMatchObject({ kind: 'refused', providers: [] });
  });

  it('refuses a NUL, an unknown max risk and an oversized claim from any front end, writing nothing', async () => {
    const before = (await testDb.db.query('SELECT count(*)::int AS n FROM resource_policies')).rows[0];
    for (const input of [
      { resource: NOTES, claim: 'groups=o\u0000ps', maxRisk: 'read' },
      { resource: `${NOTES}\u0000`, claim: 'groups=ops', maxRisk: 'read' },
      { resource: NOTES, claim: 'groups=x', maxRisk: 'root' },
      { resource: NOTES, claim: `groups=${'x'.repeat(1_000_000)}`, maxRisk: 'read' },
      { resource: NOTES, claim: 42, maxRisk: 'read' },
    ]) {
      await expect(addPolicy(testDb.db, input, CLI_OPERATOR)).rejects.toBeInstanceOf(ZodError);
    }
    expect((await testDb.db.query('SELECT count(*)::int AS n FROM resource_policies')).rows[0]).toEqual(before);
    expect((await testDb.db.query("SELECT count(*)::int AS n FROM audit_events WHERE event_type = 'policy.added'")).rows[0]).toEqual({ n: 1 });
  });
});
