// Confidential clients' secrets are stored as SHA-256 digests: a 256-bit random secret needs no slow
// hash, and a fast one keeps the token endpoint fast. Compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function digestClientSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('base64url')}`;
}

export function clientSecretMatches(storedDigest: string | undefined, presented: string): boolean {
  if (!storedDigest) return false;
  const expected = Buffer.from(storedDigest);
  const actual = Buffer.from(digestClientSecret(presented));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
