// Text sealed at rest under the server's KEY_ENCRYPTION_SECRET: a compact JWE (dir + A256GCM) under a key
// derived by HKDF with a label per purpose, so a signing key's sealing key never opens a provider's secret.
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

/** The HKDF `info` of each sealed kind (RFC 5869 §3.2: a distinct info gives an independent key). Never rename: stored rows depend on it. */
export type SealPurpose = 'signing-key-encryption' | 'identity-provider-client-secret';

const sealingKey = (serverSecret: string, purpose: SealPurpose) =>
  new Uint8Array(hkdfSync('sha256', serverSecret, 'portcullis', purpose, 32));

export function sealText(plaintext: string, serverSecret: string, purpose: SealPurpose, header: { kid?: string } = {}): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...header })
    .encrypt(sealingKey(serverSecret, purpose));
}

/** The text back; throws when the server secret (or the purpose) differs from the one it was sealed with. */
export async function openSealedText(jwe: string, serverSecret: string, purpose: SealPurpose): Promise<string> {
  const { plaintext } = await compactDecrypt(jwe, sealingKey(serverSecret, purpose));
  return new TextDecoder().decode(plaintext);
}
