// Password hashing: Argon2id at OWASP's recommended m=19 MiB, t=2, p=1 (Password Storage Cheat Sheet),
// with @node-rs/argon2 (prebuilt binaries from the npm registry, no install script).
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
