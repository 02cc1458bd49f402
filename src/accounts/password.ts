// Password hashing: Argon2id at OWASP's recommended m=19 MiB, t=2, p=1 (Password Storage Cheat Sheet),
// with @node-rs/argon2 (prebuilt binaries from the npm registry, no install script); and the bound on
// how many password checks run at once in this process, so a flood cannot queue real sign-ins behind it.
import { hash, verify, Algorithm } from '@node-rs/argon2';

const options = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verified against when the email is unknown, so a wrong email costs as long as a wrong password
// and response times do not reveal which accounts exist.
let decoyHash: Promise<string> | undefined;
export async function spendDecoyVerification(password: string): Promise<void> {
  decoyHash ??= hashPassword('decoy password that matches nothing');
  await verifyPassword(await decoyHash, password);
}

// Each check holds ~19 MiB and a thread-pool thread for ~12 ms: unbounded, a flood of failed sign-ins
// from many addresses (each under its own per-IP limit) would make every sign-in wait behind it.
let checksRunning = 0;

/**
 * Runs `check` if fewer than `maxConcurrent` password checks are running in this process, else answers
 * undefined at once (the caller refuses with Retry-After): a full server says so fast, it does not queue.
 */
export async function withPasswordCheckSlot<T>(maxConcurrent: number, check: () => Promise<T>): Promise<T | undefined> {
  if (checksRunning >= maxConcurrent) return undefined;
  checksRunning += 1;
  try {
    return await check();
  } finally {
    checksRunning -= 1;
  }
}
