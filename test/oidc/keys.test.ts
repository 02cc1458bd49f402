// The signing keys' lifecycle in the database: which key signs, rotation, and the retirement rules an
// operator (or a mistake) could break: the signing key, a key whose tokens may still be valid, force.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { ensureSigningKeys, KeyDecryptionError, loadSigningJwks, publishedSigningKeyIds, rotateSigningKeys } from '../../src/oidc/keys.ts';
import {
  KEY_VERIFICATION_WINDOW_SECONDS, listSigningKeys, retireSigningKey, SigningKeyError, type SigningKeyInfo,
} from '../../src/oidc/keys-lifecycle.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

const SECRET = 's'.repeat(40);
const cli = { actor: 'cli' };
let testDb: TestDb;
beforeEach(async () => {
  testDb = await createMigratedTestDb();
  await ensureSigningKeys(testDb.db, SECRET);
});
afterEach(async () => {
  vi.useRealTimers();
  await testDb.cleanup();
});

const byKid = (keys: SigningKeyInfo[], kid: string) => keys.find((key) => key.kid === kid)!;
const signingKid = async (alg: string) => (await listSigningKeys(testDb.db)).find((k) => k.alg === alg && k.status === 'signing')!.kid;

async function refusal(work: Promise<unknown>): Promise<SigningKeyError> {
  const error = await work.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(SigningKeyError);
  return error as SigningKeyError;
}

describe('listing and rotating', () => {
  it('starts with one signing key per algorithm', async () => {
    const keys = await listSigningKeys(testDb.db);
    expect(keys.map((key) => [key.alg, key.status])).toEqual([['ES256', 'signing'], ['EdDSA', 'signing'], ['RS256', 'signing']]);
    for (const key of keys) expect(key).toMatchObject({ supersededAt: null, retirableAt: null, retiredAt: null });
  });

  it('a rotation makes the new keys sign and the old ones verify, published newest first, and is audited', async () => {
    const oldKids = await publishedSigningKeyIds(testDb.db);
    const { kids: newKids, activatesAt } = await rotateSigningKeys(testDb.db, SECRET, { actor: 'admin_console', accountId: undefined, ip: '203.0.113.9' }, 0);
    const keys = await listSigningKeys(testDb.db);
    expect(keys).toHaveLength(6);
    for (const kid of newKids) expect(byKid(keys, kid).status).toBe('signing');
    for (const kid of oldKids) {
      const old = byKid(keys, kid);
      const successor = keys.find((key) => key.alg === old.alg && key.status === 'signing')!;
      expect(old.status).toBe('verifying');
      expect(old.supersededAt).toEqual(successor.activatesAt);
      expect(old.retirableAt!.getTime() - successor.activatesAt.getTime()).toBe(KEY_VERIFICATION_WINDOW_SECONDS * 1000);
    }
    // oidc-provider signs with the first key of an algorithm in its JWKS: the new one must come first.
    const jwks = await loadSigningJwks(testDb.db, SECRET);
    for (const alg of ['ES256', 'EdDSA', 'RS256']) expect(newKids).toContain(jwks.find((jwk) => jwk.alg === alg)?.kid);
    expect(jwks.map((jwk) => jwk.kid)).toEqual(await publishedSigningKeyIds(testDb.db));
    const [event] = await listAuditEvents(testDb.db, { type: 'keys.rotated' });
    expect(event?.details).toEqual({ actor: 'admin_console', kids: newKids, activates_at: activatesAt.toISOString() });
  });

  it('refuses to rotate under a KEY_ENCRYPTION_SECRET that cannot read the current keys, adding nothing', async () => {
    await expect(rotateSigningKeys(testDb.db, 'x'.repeat(40), cli, 0)).rejects.toThrow(KeyDecryptionError);
    expect(await listSigningKeys(testDb.db)).toHaveLength(3);
    expect(await listAuditEvents(testDb.db, { type: 'keys.rotated' })).toHaveLength(0);
  });
});

describe('retiring', () => {
  it('never retires the key that signs, not even with force', async () => {
    const kid = await signingKid('ES256');
    for (const force of [false, true]) {
      expect((await refusal(retireSigningKey(testDb.db, kid, { force, operator: cli }))).code).toBe('signing_key');
    }
    expect(await publishedSigningKeyIds(testDb.db)).toContain(kid);
  });

  it('refuses a key superseded less than the verification window ago, saying from when it may go', async () => {
    const old = await signingKid('ES256');
    await rotateSigningKeys(testDb.db, SECRET, cli, 0);
    const error = await refusal(retireSigningKey(testDb.db, old, { operator: cli }));
    expect(error.code).toBe('still_verifying');
    expect(error.retirableAt).toEqual(byKid(await listSigningKeys(testDb.db), old).retirableAt);
    expect(error.message).toContain(error.retirableAt!.toISOString());
    expect(await publishedSigningKeyIds(testDb.db)).toContain(old);
    expect(await listAuditEvents(testDb.db, { type: 'keys.retired' })).toHaveLength(0);
  });

  it('with force, retires a recent key at once: unpublished, private half erased, audited as forced', async () => {
    const old = await signingKid('EdDSA');
    await rotateSigningKeys(testDb.db, SECRET, cli, 0);
    const retired = await retireSigningKey(testDb.db, old, { force: true, operator: cli });
    expect(retired).toMatchObject({ kid: old, status: 'retired', retirableAt: null });
    expect(byKid(await listSigningKeys(testDb.db), old).status).toBe('retired');
    expect(await publishedSigningKeyIds(testDb.db)).not.toContain(old);
    expect((await loadSigningJwks(testDb.db, SECRET)).map((jwk) => jwk.kid)).not.toContain(old);
    const { rows } = await testDb.db.query<{ private_jwk_jwe: string | null }>('SELECT private_jwk_jwe FROM signing_keys WHERE kid = $1', [old]);
    expect(rows[0]?.private_jwk_jwe).toBeNull();
    const [event] = await listAuditEvents(testDb.db, { type: 'keys.retired' });
    expect(event?.details).toEqual({ actor: 'cli', kid: old, alg: 'EdDSA', forced: true });
  });

  it('retires without force once the window has passed', async () => {
    const old = await signingKid('RS256');
    await rotateSigningKeys(testDb.db, SECRET, cli, 0);
    const { retirableAt } = byKid(await listSigningKeys(testDb.db), old);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(retirableAt!.getTime() - 1000);
    expect((await refusal(retireSigningKey(testDb.db, old, { operator: cli }))).code).toBe('still_verifying');
    vi.setSystemTime(retirableAt!.getTime() + 1000);
    await retireSigningKey(testDb.db, old, { operator: cli });
    expect(await publishedSigningKeyIds(testDb.db)).not.toContain(old);
    const [event] = await listAuditEvents(testDb.db, { type: 'keys.retired' });
    expect(event?.details).toMatchObject({ kid: old, forced: false });
  });

  it('refuses an unknown kid and a key already retired', async () => {
    expect((await refusal(retireSigningKey(testDb.db, 'no-such-kid', { force: true, operator: cli }))).code).toBe('not_found');
    const old = await signingKid('ES256');
    await rotateSigningKeys(testDb.db, SECRET, cli, 0);
    await retireSigningKey(testDb.db, old, { force: true, operator: cli });
    expect((await refusal(retireSigningKey(testDb.db, old, { force: true, operator: cli }))).code).toBe('already_retired');
  });

  it('the database itself refuses a retired key that keeps its private half', async () => {
    const old = await signingKid('ES256');
    await rotateSigningKeys(testDb.db, SECRET, cli, 0);
    await expect(testDb.db.query('UPDATE signing_keys SET retired_at = now() WHERE kid = $1', [old])).rejects.toThrow(/signing_keys_private_half_until_retired/);
  });
});
