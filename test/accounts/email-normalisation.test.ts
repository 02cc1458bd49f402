// One normaliser for email addresses: every spelling of one address (case, fullwidth forms, spaces)
// finds the same account and fills the same sign-in throttle bucket, on PGlite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normaliseEmail } from '../../src/input/email.ts';
import { databaseLoginAttempts } from '../../src/accounts/login-throttle-sql.ts';
import { emailBucket } from '../../src/accounts/login-throttle.ts';
import { hashPassword } from '../../src/accounts/password.ts';
import { signInWithPassword } from '../../src/accounts/sign-in.ts';
import { addAccount, authenticateAccount, backfillEmailKeys, EmailTakenError } from '../../src/accounts/store.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

const PASSWORD = 'correct horse battery staple';
const VARIANTS = ['alice@example.com', 'ALICE@EXAMPLE.COM', 'Alice@Example.com', '  alice@example.com ',
  'ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ', 'ALICE@EXAMPLE.COM'.normalize('NFD'), 'alice\uFF20example.com'];

let testDb: TestDb;
beforeEach(async () => { testDb = await createMigratedTestDb(); });
afterEach(async () => testDb?.cleanup());

describe('email spellings', () => {
  it('every variant of an address signs in to the one account and none creates a second', async () => {
    const { db } = testDb;
    const alice = await addAccount(db, { email: 'Alice@Example.com', password: PASSWORD });
    for (const variant of VARIANTS) {
      expect((await authenticateAccount(db, variant, PASSWORD))?.id, JSON.stringify(variant)).toBe(alice.id);
    }
    await expect(addAccount(db, { email: 'ALICE@example.COM', password: PASSWORD })).rejects.toBeInstanceOf(EmailTakenError);
    // A different letter is a different address, for the lookup and the throttle alike.
    expect(await authenticateAccount(db, 'al\u0130ce@example.com', PASSWORD)).toBeUndefined();
    expect(emailBucket('al\u0130ce@example.com')).not.toBe(emailBucket('alice@example.com'));
  });

  it('failed sign-ins under every variant fill one bucket: the account locks whatever spelling is used', async () => {
    const { db } = testDb;
    await addAccount(db, { email: 'alice@example.com', password: PASSWORD });
    const throttle = { policy: { maxFailuresPerEmail: 3, maxFailuresPerIp: 1000, windowSeconds: 900, maxConcurrentPasswordChecks: 8 }, attempts: databaseLoginAttempts(db) };
    const attempt = (email: string, password: string, ip: string) => signInWithPassword(db, { email, password, ip }, throttle);
    expect(new Set(VARIANTS.map(emailBucket)).size).toBe(1);
    for (const [i, variant] of VARIANTS.slice(1, 4).entries()) expect((await attempt(variant, 'wrong password', `198.51.100.${i}`)).ok).toBe(false);
    // Locked: even the right password, under yet another spelling from another address, is refused.
    const locked = await attempt(VARIANTS[4]!, PASSWORD, '203.0.113.9');
    expect(locked).toMatchObject({ ok: false, reason: 'throttled' });
    const { rows } = await db.query<{ failures: number }>('SELECT failures FROM login_throttle WHERE bucket LIKE $1', ['email:%']);
    expect(rows).toHaveLength(1);
  });

  it('an account stored before the key existed is found once backfilled, by the same function', async () => {
    const { db } = testDb;
    const id = randomUUID();
    // As migration 0018 leaves a non-ASCII email: no key yet.
    await db.query('INSERT INTO accounts (id, email, password_hash) VALUES ($1, $2, $3)', [id, 'Ｂob@Example.com', await hashPassword(PASSWORD)]);
    expect(await authenticateAccount(db, 'bob@example.com', PASSWORD)).toBeUndefined();
    expect(await backfillEmailKeys(db)).toBe(1);
    expect(await backfillEmailKeys(db)).toBe(0);
    expect((await authenticateAccount(db, 'BOB@example.com', PASSWORD))?.id).toBe(id);
    const { rows } = await db.query<{ email_key: string }>('SELECT email_key FROM accounts WHERE id = $1', [id]);
    expect(rows[0]!.email_key).toBe(normaliseEmail('bob@example.com'));
  });
});
