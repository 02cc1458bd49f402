// Token signing keys at rest: generated per algorithm, private half encrypted (JWE, dir + A256GCM, key
// derived from KEY_ENCRYPTION_SECRET), published in jwks_uri until retired, signing from `activates_at`.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { openSealedText, sealText } from '../sealing/sealed-text.ts';
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


async function generateSigningKey(alg: (typeof SIGNING_ALGORITHMS)[number]) {
  const { publicKey, privateKey } = alg === 'EdDSA'
    ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
    : await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, publicJwk, privateJwk };
}

async function insertKeySet(tx: Queryable, secret: string, publishAheadSeconds: number): Promise<RotatedKeys> {
  // One reading of the database clock for the whole set, so every algorithm switches at the same instant.
  // clock_timestamp(), not now(): now() is when the transaction began, possibly before it waited for the
  // lock. The database's clock, not ours, is the one every server compares `activates_at` with.
  const { rows: [clock] } = await tx.query<{ created_at: Date; activates_at: Date }>(
    "SELECT at AS created_at, at + $1::int * interval '1 second' AS activates_at FROM (SELECT clock_timestamp() AS at) AS clock",
    [publishAheadSeconds]);
  if (!clock) throw new Error('the database did not tell the time');
  const kids: string[] = [];
  for (const alg of SIGNING_ALGORITHMS) {
    const key = await generateSigningKey(alg);
    const jwe = await sealText(JSON.stringify(key.privateJwk), secret, 'signing-key-encryption', { kid: key.kid });
    await tx.query(
      'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_jwe, created_at, activates_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [key.kid, alg, JSON.stringify(key.publicJwk), jwe, clock.created_at, clock.activates_at],
    );
    kids.push(key.kid);
  }
  return { kids, activatesAt: clock.activates_at, publishedAheadSeconds: publishAheadSeconds };
}

/** Generates the first key set unless one exists; safe when several processes start at once. */
export async function ensureSigningKeys(db: Db, secret: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_SET_LOCK]);
    const { rows } = await tx.query('SELECT 1 FROM signing_keys WHERE retired_at IS NULL LIMIT 1');
    // The first keys sign at once: no resource server can have cached a key set that lacks them.
    if (rows.length === 0) await insertKeySet(tx, secret, 0);
  });
}

export interface RotatedKeys {
  kids: string[];
  /** When they start signing (database clock); until then they are only published. */
  activatesAt: Date;
  /** How long before activatesAt they were published; 0: they sign at once. */
  publishedAheadSeconds: number;
}

/**
 * Adds a new key per algorithm, published at once (each server within KEY_REFRESH_SECONDS) and signing
 * from `publishAheadSeconds` later: a resource server that meets its first token then already holds it,
 * or may refetch our JWKS. 0 signs at once (a compromised key), and resource servers that fetched our JWKS
 * in their last cooldown (30 s) refuse the new tokens until it ends. The older keys stay published, so
 * tokens they signed keep verifying until retired. Recorded as `keys.rotated` in the same transaction.
 */
export async function rotateSigningKeys(
  db: Db, secret: string, operator: KeyOperator, publishAheadSeconds: number,
): Promise<RotatedKeys> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_SET_LOCK]);
    // With the wrong KEY_ENCRYPTION_SECRET (another DATA_DIR, a missing variable) we would store keys
    // no server can read, and every server would refuse to start: decrypt the current ones first.
    const current = await loadSigningJwks(tx, secret);
    // Keys rotated into an empty key set sign at once: no one can have cached a set without them, and
    // pending keys alone would leave nothing to sign with.
    const rotated = await insertKeySet(tx, secret, current.length === 0 ? 0 : publishAheadSeconds);
    const { actor, ...facts } = operator;
    // The actor is named, not inferred from details: details.actor stays for readers of older events.
    await recordAuditEvent(tx, {
      actor: { type: 'operator', id: actor },
      type: 'keys.rotated', ...facts,
      details: { actor, kids: rotated.kids, activates_at: rotated.activatesAt.toISOString() },
    });
    return rotated;
  });
}

export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError';
}

export type PublishedKeyRole = 'signing' | 'pending' | 'verifying';

/** What decides a published key's role; `active`: its `activates_at` has passed on the database clock. */
export interface PublishedKeyTiming { kid: string; alg: string; active: boolean }

// Latest activation first: of an algorithm's active keys, the first one read is the one that signs. Ties
// (impossible in practice: one clock reading per rotation, rotations serialised by the lock) go to the
// newer key, then the kid, so every server picks the same one.
const PUBLISHED = `activates_at <= clock_timestamp() AS active
  FROM signing_keys WHERE retired_at IS NULL ORDER BY activates_at DESC, created_at DESC, kid`;

/**
 * Gives each key its role and puts them in the order oidc-provider needs: the signing key of each
 * algorithm first, then keys not yet active (pending), then older keys that only verify. `rows` come in
 * activation order, latest first. oidc-provider 9 picks a signing key with KeyStore#selectForSign
 * (lib/helpers/keystore.js): it filters the `jwks` it was given by kty, alg, use and crv, then sorts them
 * by a score that only counts whether `alg` and `use` are present (both always are on ours) with the
 * stable Array#sort, and lib/models/formats/jwt.js and lib/models/id_token.js take element [0]: the
 * first key of an algorithm in `jwks` signs. The order also tells the key check when a key activates:
 * the kid set stays the same then, but the new key moves ahead of the old one.
 */
export function inSigningOrder<T extends PublishedKeyTiming>(rows: readonly T[]): (T & { role: PublishedKeyRole })[] {
  const signingAlgs = new Set<string>();
  const withRoles = rows.map((row) => {
    let role: PublishedKeyRole = 'pending';
    if (row.active) {
      role = signingAlgs.has(row.alg) ? 'verifying' : 'signing';
      signingAlgs.add(row.alg);
    }
    return { ...row, role };
  });
  // An algorithm always has an active key (the first keys activate at once, a signing key is never
  // retired), so no pending key can end up first of its algorithm.
  const rank: Record<PublishedKeyRole, number> = { signing: 0, pending: 1, verifying: 2 };
  return withRoles.sort((a, b) => rank[a.role] - rank[b.role]);
}

/** Private JWKs of every key not retired, in signing order (see inSigningOrder). */
export async function loadSigningJwks(db: Queryable, secret: string): Promise<JWK[]> {
  const { rows } = await db.query<PublishedKeyTiming & { private_jwk_jwe: string }>(
    `SELECT kid, alg, private_jwk_jwe, ${PUBLISHED}`);
  return Promise.all(inSigningOrder(rows).map(async (row) => {
    try {
      return JSON.parse(await openSealedText(row.private_jwk_jwe, secret, 'signing-key-encryption')) as JWK;
    } catch {
      throw new KeyDecryptionError(
        `signing key ${row.kid} cannot be decrypted: KEY_ENCRYPTION_SECRET differs from the one it was stored with`);
    }
  }));
}

/**
 * The kids loadSigningJwks would return, in its order, without decrypting anything: one small indexed
 * query, cheap enough for every server to ask every few seconds whether its key set is still current.
 * The order changes when a pending key activates, so the check notices an activation too.
 */
export async function publishedSigningKeyIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<PublishedKeyTiming>(`SELECT kid, alg, ${PUBLISHED}`);
  return inSigningOrder(rows).map((row) => row.kid);
}
