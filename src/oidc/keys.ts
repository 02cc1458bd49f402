// Token signing keys at rest: generated per algorithm, stored with the private half encrypted (JWE, dir +
// A256GCM under a key derived from KEY_ENCRYPTION_SECRET), published in jwks_uri until retired.
import { hkdfSync, randomUUID } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { recordAuditEvent } from '../audit/store.ts';
import type { Db, Queryable } from '../db/db.ts';

// One key per algorithm: ES256 signs access tokens by default, EdDSA on request, and RS256 serves
// clients that verify nothing else (it is also OpenID Connect's default for ID tokens).
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;
// Every change to the key set (first keys, rotation, retirement) takes this lock: concurrent starts,
// CLI commands and admin requests in several processes queue up instead of interleaving.
export const KEY_SET_LOCK = 7_420_001;

/** Who changed the key set, for the audit trail: `cli`, or an admin surface with its request's facts. */
export interface KeyOperator {
  actor: string;
  accountId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

function encryptionKey(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'portcullis', 'signing-key-encryption', 32));
}

async function generateSigningKey(alg: (typeof SIGNING_ALGORITHMS)[number]) {
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
  for (const alg of SIGNING_ALGORITHMS) {
    const key = await generateSigningKey(alg);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(key.privateJwk)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid })
      .encrypt(encryptionKey(secret));
    // clock_timestamp(), not now(): now() is when the transaction began, possibly before it waited for
    // the lock, and the newest created_at is what decides which key signs.
    await tx.query(
      'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_jwe, created_at) VALUES ($1, $2, $3, $4, clock_timestamp())',
      [key.kid, alg, JSON.stringify(key.publicJwk), jwe],
    );
    kids.push(key.kid);
  }
  return kids;
}

/** Generates the first key set unless one exists; safe when several processes start at once. */
export async function ensureSigningKeys(db: Db, secret: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_SET_LOCK]);
    const { rows } = await tx.query('SELECT 1 FROM signing_keys WHERE retired_at IS NULL LIMIT 1');
    if (rows.length === 0) await insertKeySet(tx, secret);
  });
}

/**
 * Adds a new key per algorithm, which signs from now on (each server within KEY_REFRESH_SECONDS); the
 * older keys stay published, so tokens they signed keep verifying until retired. Recorded as
 * `keys.rotated` in the same transaction. Returns the new kids.
 */
export async function rotateSigningKeys(db: Db, secret: string, operator: KeyOperator): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_SET_LOCK]);
    // With the wrong KEY_ENCRYPTION_SECRET (another DATA_DIR, a missing variable) we would store keys
    // no server can read, and every server would refuse to start: decrypt the current ones first.
    await loadSigningJwks(tx, secret);
    const kids = await insertKeySet(tx, secret);
    const { actor, ...facts } = operator;
    await recordAuditEvent(tx, { type: 'keys.rotated', ...facts, details: { actor, kids } });
    return kids;
  });
}

export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError';
}

const PUBLISHED = 'FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid';

/** Private JWKs of every key not retired, newest first: oidc-provider signs with the first of an alg. */
export async function loadSigningJwks(db: Queryable, secret: string): Promise<JWK[]> {
  const { rows } = await db.query<{ kid: string; private_jwk_jwe: string }>(`SELECT kid, private_jwk_jwe ${PUBLISHED}`);
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

/**
 * The kids loadSigningJwks would return, in its order, without decrypting anything: one small indexed
 * query, cheap enough for every server to ask every few seconds whether its key set is still current.
 */
export async function publishedSigningKeyIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ kid: string }>(`SELECT kid ${PUBLISHED}`);
  return rows.map((row) => row.kid);
}
