// The sign-in and registration stores keep the same rules in the database and in Redis: the same
// answers at the same (fake) clock, exact under parallel attempts, a release only within its window.
// The Redis store is tested when TEST_REDIS_URL names a Redis server (keys under a random prefix, deleted afterwards).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginAttemptStore } from '../../src/accounts/login-throttle.ts';
import { databaseLoginAttempts } from '../../src/accounts/login-throttle-sql.ts';
import type { RegistrationAttemptStore } from '../../src/clients/registration-rate-limit.ts';
import { databaseRegistrationAttempts } from '../../src/clients/registration-rate-sql.ts';
import { redisLoginAttempts } from '../../src/rate-limit/redis-login-throttle.ts';
import { redisRegistrationAttempts } from '../../src/rate-limit/redis-registration-rate.ts';
import { createMigratedTestDb, type TestDb } from '../helpers/test-db.ts';

const REDIS_URL = process.env.TEST_REDIS_URL;
const prefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
let redis: Redis | undefined;
let testDb: TestDb;

beforeAll(async () => {
  testDb = await createMigratedTestDb();
  if (REDIS_URL) redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await testDb?.cleanup();
  if (!redis) return;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

interface Stores { login: LoginAttemptStore; registration: RegistrationAttemptStore }
const backends: [string, () => Stores][] = [
  ['database', () => ({ login: databaseLoginAttempts(testDb.db), registration: databaseRegistrationAttempts(testDb.db) })],
  ...(REDIS_URL ? [['redis', () => ({ login: redisLoginAttempts(redis!, prefix), registration: redisRegistrationAttempts(redis!, prefix) })] as [string, () => Stores]] : []),
];

const start = new Date('2030-01-01T00:00:00Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
let bucketNumber = 0;
const freshBucket = () => `email:store-test-${(bucketNumber += 1)}`;

describe.each(backends)('sign-in attempts (%s)', (_backend, stores) => {
  it('allows the limit, locks the next (lockedNow once), counts Retry-After down to the window end, then reopens', async () => {
    const { login } = stores();
    const bucket = freshBucket();
    for (let i = 0; i < 3; i += 1) expect((await login.reserveAttempt(bucket, 3, 900, at(i))).allowed).toBe(true);
    expect(await login.reserveAttempt(bucket, 3, 900, at(100))).toEqual({ allowed: false, bucket, retryAfterSeconds: 800, lockedNow: true });
    expect(await login.reserveAttempt(bucket, 3, 900, at(899))).toEqual({ allowed: false, bucket, retryAfterSeconds: 1, lockedNow: false });
    expect(await login.reserveAttempt(bucket, 3, 900, at(900))).toEqual({ allowed: true, bucket, windowStartedAt: at(900) });
  });

  it('20 parallel attempts: exactly the limit get through, and exactly one is the first refusal', async () => {
    const { login } = stores();
    const bucket = freshBucket();
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 20 }, () => login.reserveAttempt(bucket, 5, 900, now)));
    expect(results.filter((result) => result.allowed)).toHaveLength(5);
    expect(results.filter((result) => !result.allowed && result.lockedNow)).toHaveLength(1);
  });

  it('a released attempt does not count, but only within its own window', async () => {
    const { login } = stores();
    const bucket = freshBucket();
    // Ten reserve-and-release pairs against a limit of 2 (successful sign-ins behind one NAT): never locked.
    for (let i = 0; i < 10; i += 1) {
      const reservation = await login.reserveAttempt(bucket, 2, 900, at(i));
      expect(reservation.allowed).toBe(true);
      if (reservation.allowed) await login.releaseAttempt(reservation);
    }
    // A reservation from an ended window gives nothing back to the new one.
    const old = await login.reserveAttempt(bucket, 2, 900, at(20));
    expect(await login.reserveAttempt(bucket, 2, 900, at(2000))).toMatchObject({ allowed: true });
    if (old.allowed) await login.releaseAttempt(old);
    expect(await login.reserveAttempt(bucket, 2, 900, at(2001))).toMatchObject({ allowed: true });
    expect(await login.reserveAttempt(bucket, 2, 900, at(2002))).toMatchObject({ allowed: false, lockedNow: true });
  });

  it('clearBucket forgets a locked bucket', async () => {
    const { login } = stores();
    const bucket = freshBucket();
    for (let i = 0; i < 3; i += 1) await login.reserveAttempt(bucket, 2, 900, at(i));
    expect((await login.reserveAttempt(bucket, 2, 900, at(5))).allowed).toBe(false);
    await login.clearBucket(bucket);
    expect(await login.reserveAttempt(bucket, 2, 900, at(6))).toEqual({ allowed: true, bucket, windowStartedAt: at(6) });
  });
});

describe.each(backends)('registration attempts (%s)', (_backend, stores) => {
  it('allows N per window, then refuses with Retry-After to the window end, then reopens', async () => {
    const { registration } = stores();
    const bucket = `ip:registration-${(bucketNumber += 1)}`;
    const limit = { maxPerIp: 2, windowSeconds: 60 };
    expect(await registration.countRegistrationAttempt(bucket, limit, at(0))).toEqual({ allowed: true });
    expect(await registration.countRegistrationAttempt(bucket, limit, at(1))).toEqual({ allowed: true });
    expect(await registration.countRegistrationAttempt(bucket, limit, at(20))).toEqual({ allowed: false, retryAfterSeconds: 40 });
    // The count stops at limit + 1: hammering does not push the reopening back.
    for (let i = 0; i < 5; i += 1) await registration.countRegistrationAttempt(bucket, limit, at(30 + i));
    expect(await registration.countRegistrationAttempt(bucket, limit, at(59))).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await registration.countRegistrationAttempt(bucket, limit, at(60))).toEqual({ allowed: true });
  });

  it('parallel registrations: exactly the limit get through', async () => {
    const { registration } = stores();
    const bucket = `ip:registration-${(bucketNumber += 1)}`;
    const results = await Promise.all(Array.from({ length: 20 }, () => registration.countRegistrationAttempt(bucket, { maxPerIp: 4, windowSeconds: 60 })));
    expect(results.filter((result) => result.allowed)).toHaveLength(4);
  });
});

describe.skipIf(!REDIS_URL)('Redis keys', () => {
  it('live under the configured prefix and expire with their window', async () => {
    const login = redisLoginAttempts(redis!, prefix);
    await login.reserveAttempt('email:ttl-test', 5, 900, new Date());
    const ttl = await redis!.pttl(`${prefix}login:email:ttl-test`);
    expect(ttl).toBeGreaterThan(898_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
    await redisRegistrationAttempts(redis!, prefix).countRegistrationAttempt('ip:ttl-test', { maxPerIp: 5, windowSeconds: 60 });
    expect(await redis!.pttl(`${prefix}registration:ip:ttl-test`)).toBeGreaterThan(58_000);
  });
});
