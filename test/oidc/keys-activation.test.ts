// Pending keys in the database: a rotation published ahead signs nothing until `activates_at`, which key
// signs is the latest activated one, and the retirement rules around pending keys; plus migration 0010.
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit/store.ts';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../../src/db/migrate.ts';
import { ensureSigningKeys, loadSigningJwks, publishedSigningKeyIds, rotateSigningKeys } from '../../src/oidc/keys.ts';
import {
  KEY_VERIFICATION_WINDOW_SECONDS, listSigningKeys, retireSigningKey, SigningKeyError, type SigningKeyInfo,
} from '../../src/oidc/keys-lifecycle.ts';
import { createMigratedTestDb, createTestDb, type TestDb } from '../helpers/test-db.ts';

const SECRET = 's'.repeat(40);
const cli = { actor: 'cli' };
let testDb: TestDb;
beforeEach(async () => {
  testDb = await createMigratedTestDb();
});
afterEach(async () => {
  await testDb.cleanup();
});

const keyOf = async (kid: string) => (await listSigningKeys(testDb.db)).find((key) => key.kid === kid)!;
const es256 = (keys: SigningKeyInfo[]) => keys.filter((key) => key.alg === 'ES256');
const es256Kid = (kids: string[]) => kids[0]!; // rotateSigningKeys returns them in SIGNING_ALGORITHMS order: ES256 first
const signingEs256 = async () => (await listSigningKeys(testDb.db)).find((key) => key.alg === 'ES256' && key.status === 'signing')!.kid;
const rotate = (aheadSeconds: number) => rotateSigningKeys(testDb.db, SECRET, cli, aheadSeconds);
// Activation without waiting: set on the database clock, as a passing activates_at would be.
const activateAt = (kid: string, sql: string) => testDb.db.query(`UPDATE signing_keys SET activates_at = ${sql} WHERE kid = $1`, [kid]);

async function refusal(work: Promise<unknown>): Promise<SigningKeyError> {
  const error = await work.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(SigningKeyError);
  return error as SigningKeyError;
}

describe('a rotation published ahead', () => {
  it('adds pending keys that activate KEY_PUBLISH_AHEAD_SECONDS after their creation; the current keys keep signing', async () => {
    await ensureSigningKeys(testDb.db, SECRET);
    const oldKids = await publishedSigningKeyIds(testDb.db);
    const { kids, activatesAt, publishedAheadSeconds } = await rotate(60);
    expect(publishedAheadSeconds).toBe(60);
    const keys = await listSigningKeys(testDb.db);
    for (const kid of kids) {
      const key = keys.find((candidate) => candidate.kid === kid)!;
      expect(key).toMatchObject({ status: 'pending', activatesAt, supersededAt: null, retirableAt: null });
      expect(key.activatesAt.getTime() - key.createdAt.getTime()).toBe(60_000);
    }
    for (const kid of oldKids) expect(keys.find((key) => key.kid === kid)).toMatchObject({ status: 'signing', supersededAt: null });

    // Published, in the order oidc-provider needs: the signing keys first (it signs with the first key
    // of an algorithm), then the pending ones.
    const jwks = (await loadSigningJwks(testDb.db, SECRET)).map((jwk) => jwk.kid);
    expect(jwks.slice(0, 3).sort()).toEqual([...oldKids].sort());
    expect(jwks.slice(3).sort()).toEqual([...kids].sort());
    expect(await publishedSigningKeyIds(testDb.db)).toEqual(jwks);
  });

  it('once active, the new key signs and the old one verifies, superseded at the activation time', async () => {
    await ensureSigningKeys(testDb.db, SECRET);
    const oldKid = await signingEs256();
    const { kids } = await rotate(60);
    await activateAt(es256Kid(kids), 'clock_timestamp()');
    const activated = await keyOf(es256Kid(kids));
    expect(activated.status).toBe('signing');
    const old = await keyOf(oldKid);
    expect(old).toMatchObject({ status: 'verifying', supersededAt: activated.activatesAt });
    expect(old.retirableAt!.getTime() - activated.activatesAt.getTime()).toBe(KEY_VERIFICATION_WINDOW_SECONDS * 1000);
    // Signing key first, pending keys next, verifying keys last.
    const order = await publishedSigningKeyIds(testDb.db);
    expect(order.indexOf(es256Kid(kids))).toBeLessThan(3); // among the signing keys
    expect(order.indexOf(oldKid)).toBe(order.length - 1); // the only verifying key
    expect(order.slice(3, 5).sort()).toEqual(kids.slice(1).sort()); // EdDSA and RS256, still pending
    expect((await loadSigningJwks(testDb.db, SECRET)).find((jwk) => jwk.alg === 'ES256')?.kid).toBe(es256Kid(kids));
  });

  it('--now after a pending rotation: the immediate key signs now, the pending one takes over at its activation', async () => {
    await ensureSigningKeys(testDb.db, SECRET);
    const first = await signingEs256();
    const pending = es256Kid((await rotate(3600)).kids);
    const now = es256Kid((await rotate(0)).kids);
    expect(es256(await listSigningKeys(testDb.db)).map((key) => [key.kid, key.status]))
      .toEqual([[pending, 'pending'], [now, 'signing'], [first, 'verifying']]);

    await activateAt(pending, 'clock_timestamp()');
    const keys = es256(await listSigningKeys(testDb.db));
    expect(keys.map((key) => [key.kid, key.status])).toEqual([[pending, 'signing'], [now, 'verifying'], [first, 'verifying']]);
    expect(keys[1]!.supersededAt).toEqual(keys[0]!.activatesAt);
    expect(keys[2]!.supersededAt).toEqual(keys[1]!.activatesAt);
  });

  it('into an empty key set signs at once: pending keys alone would leave nothing to sign with', async () => {
    const { kids, publishedAheadSeconds } = await rotate(60);
    expect(publishedAheadSeconds).toBe(0);
    for (const kid of kids) expect((await keyOf(kid)).status).toBe('signing');
    // A server starting now keeps them (it creates keys only when none are published).
    await ensureSigningKeys(testDb.db, SECRET);
    expect((await listSigningKeys(testDb.db)).map((key) => key.kid).sort()).toEqual([...kids].sort());
  });
});

describe('retiring around a pending key', () => {
  it('the key that signs until the pending key activates is still the signing key, even with force', async () => {
    await ensureSigningKeys(testDb.db, SECRET);
    const oldKid = await signingEs256();
    await rotate(60);
    expect((await refusal(retireSigningKey(testDb.db, oldKid, { force: true, operator: cli }))).code).toBe('signing_key');
  });

  it('a pending key is refused without force, saying when it activates; forced, the rotation is cancelled and audited', async () => {
    await ensureSigningKeys(testDb.db, SECRET);
    const oldKid = await signingEs256();
    const { kids, activatesAt } = await rotate(60);
    const pending = es256Kid(kids);
    const error = await refusal(retireSigningKey(testDb.db, pending, { operator: cli }));
    expect(error.code).toBe('pending_key');
    expect(error.message).toContain(activatesAt.toISOString());
    expect((await keyOf(pending)).status).toBe('pending');
    expect(await listAuditEvents(testDb.db, { type: 'keys.retired' })).toHaveLength(0);

    const retired = await retireSigningKey(testDb.db, pending, { force: true, operator: cli });
    expect(retired).toMatchObject({ kid: pending, status: 'retired' });
    expect(await publishedSigningKeyIds(testDb.db)).not.toContain(pending);
    const [event] = await listAuditEvents(testDb.db, { type: 'keys.retired' });
    expect(event?.details).toEqual({ actor: 'cli', kid: pending, alg: 'ES256', forced: true, pending: true });

    // It never signed: even once its activation time has passed it supersedes nothing, and the old key signs on.
    await activateAt(pending, 'clock_timestamp()');
    expect(await keyOf(oldKid)).toMatchObject({ status: 'signing', supersededAt: null });
    expect(await keyOf(pending)).toMatchObject({ status: 'retired', supersededAt: null });
  });

  it('a pending key whose activation time has passed is the signing key: not retired, even forced', async () => {
    await ensureSigningKeys(testDb.db, SECRET);
    const pending = es256Kid((await rotate(60)).kids);
    await activateAt(pending, 'clock_timestamp()');
    expect((await refusal(retireSigningKey(testDb.db, pending, { force: true, operator: cli }))).code).toBe('signing_key');
    expect(await publishedSigningKeyIds(testDb.db)).toContain(pending);
  });
});

describe('migration 0010', () => {
  it('gives existing keys activates_at = created_at, then requires it', async () => {
    // Migrate a fresh database up to 0009, store a key set as 0009 knew them, then apply the rest.
    const upTo0009 = mkdtempSync(join(tmpdir(), 'pc-migrations-'));
    const fresh = await createTestDb();
    try {
      for (const file of readdirSync(DEFAULT_MIGRATIONS_DIR).filter((name) => name < '0010')) {
        cpSync(join(DEFAULT_MIGRATIONS_DIR, file), join(upTo0009, file));
      }
      await migrate(fresh.db, upTo0009);
      await fresh.db.query(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_jwe, created_at)
         VALUES ('old', 'ES256', '{}', 'jwe', '2024-05-01T10:00:00Z'), ('older', 'ES256', '{}', 'jwe', '2024-01-01T10:00:00Z')`);
      await migrate(fresh.db);
      const { rows } = await fresh.db.query<{ kid: string; created_at: Date; activates_at: Date }>(
        'SELECT kid, created_at, activates_at FROM signing_keys ORDER BY kid');
      for (const row of rows) expect(row.activates_at).toEqual(row.created_at);
      expect((await listSigningKeys(fresh.db)).map((key) => [key.kid, key.status])).toEqual([['old', 'signing'], ['older', 'verifying']]);
      await expect(fresh.db.query(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_jwe) VALUES ('new', 'ES256', '{}', 'jwe')`,
      )).rejects.toThrow(/activates_at/);
    } finally {
      await fresh.cleanup();
      rmSync(upTo0009, { recursive: true, force: true });
    }
  });
});
