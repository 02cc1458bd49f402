// Token signing keys: generated on first start, stored with the private half encrypted (JWE, dir +
// A256GCM under a key derived from KEY_ENCRYPTION_SECRET), published in jwks_uri while not retired.
import { hkdfSync, randomUUID } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db, Queryable } from '../db/db.ts';

// One key per algorithm: ES256 signs access tokens by default, EdDSA on request, and RS256 serves
// clients that verify nothing else (it is also OpenID Connect's default for ID tokens).
const algorithms = ['ES256', 'EdDSA', 'RS256'] as const;
const keyGenerationLock = 7_420_001;

function encryptionKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'portcullis', 'signing-key-encryption', 32));
}

async function generateSigningKey(alg: (typeof algorithms)[number]) {
  const { publicKey, privateKey } = alg === 'EdDSA'
    ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
    : await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, publicJwk, privateJwk };
}

async function insertKeySet(tx: Queryable, secret: string): Promise<string[]> {
  const kids: string[] = [];
  for (const alg of algorithms) {
    const key = await generateSigningKey(alg);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(key.privateJwk)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid })
      .encrypt(encryptionKey(secret));
    await tx.query(
      'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_jwe) VALUES ($1, $2, $3, $4)',
      [key.kid, alg, JSON.stringify(key.publicJwk), jwe],
    );
    kids.push(key.kid);
  }
  return kids;
}

/** Generates the first key set unless one exists; safe when several processes start at once. */
export async function ensureSigningKeys(db: Db, secret: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [keyGenerationLock]);
    const { rows } = await tx.query('SELECT 1 FROM signing_keys WHERE retired_at IS NULL LIMIT 1');
    if (rows.length === 0) await insertKeySet(tx, secret);
  });
}

/** Adds a new key set that signs from now on; older keys keep verifying until retired. */
export async function rotateSigningKeys(db: Db, secret: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [keyGenerationLock]);
    return insertKeySet(tx, secret);
  });
}

export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError';
}

/** Private JWKs of every key not retired, newest first: oidc-provider signs with the first of an alg. */
export async function loadSigningJwks(db: Queryable, secret: string): Promise<JWK[]> {
  const { rows } = await db.query<{ kid: string; private_jwk_jwe: string }>(
    'SELECT kid, private_jwk_jwe FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid');
  const key = encryptionKey(secret);
  return Promise.all(rows.map(async (row) => {
    try {
      const { plaintext } = await compactDecrypt(row.private_jwk_jwe, key);
      return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
    } catch {
      throw new KeyDecryptionError(
        `signing key ${row.kid} cannot be decrypted: KEY_ENCRYPTION_SECRET differs from the one it was stored with`);
    }
  }));
}
