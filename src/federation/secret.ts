// A provider's client secret at rest: the signing keys' construction (src/oidc/keys.ts), a JWE with dir +
// A256GCM under a key derived from KEY_ENCRYPTION_SECRET by HKDF, with its own label so the keys never mix.
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

// RFC 5869 §3.2: a distinct `info` gives an independent key from the same secret.
const encryptionKey = (secret: string) =>
  new Uint8Array(hkdfSync('sha256', secret, 'portcullis', 'identity-provider-client-secret', 32));

export async function sealClientSecret(clientSecret: string, serverSecret: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(clientSecret))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .encrypt(encryptionKey(serverSecret));
}

/** The secret back, for the sign-in flow's token request; throws when KEY_ENCRYPTION_SECRET changed. */
export async function openClientSecret(jwe: string, serverSecret: string): Promise<string> {
  const { plaintext } = await compactDecrypt(jwe, encryptionKey(serverSecret));
  return new TextDecoder().decode(plaintext);
}
