// Which signing keys are pending, sign, only verify or are retired, and the rule for retiring one: never the
// key that signs; not while a token it signed may still be valid, nor before it signs, unless forced.
import { recordAuditEvent } from '../audit/store.ts';
import type { Db, Queryable } from '../db/db.ts';
import { inSigningOrder, KEY_SET_LOCK, type KeyOperator, type PublishedKeyTiming } from './keys.ts';

export type SigningKeyStatus = 'pending' | 'signing' | 'verifying' | 'retired';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdAt: Date;
  /** From when it signs (database clock); until then it is `pending`: published, signing nothing. */
  activatesAt: Date;
  status: SigningKeyStatus;
  /** When a newer key of its algorithm took over signing; null for the key that signs now and pending keys. */
  supersededAt: Date | null;
  /** From when `retire` accepts it without force; null for the signing key, pending and retired keys. */
  retirableAt: Date | null;
  retiredAt: Date | null;
}

// How long a token signed just before its key was superseded can stay valid:
// - an hour: the longest token we sign. Access tokens are capped at an hour (ACCESS_TOKEN_TTL_SECONDS
//   and a resource's --ttl allow at most 3600) and ID tokens live an hour (ttl.IdToken in provider.ts);
// - a minute: another server process keeps signing with the old key until its next key check
//   (KEY_REFRESH_SECONDS, at most 60);
// - a minute: clock skew between us and the resource servers that check `exp`.
export const KEY_VERIFICATION_WINDOW_SECONDS = 3600 + 60 + 60;

export type SigningKeyErrorCode = 'not_found' | 'already_retired' | 'signing_key' | 'pending_key' | 'still_verifying';

/** Why a key cannot be retired; `code` is stable for the CLI and the admin API to switch on. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
  constructor(readonly code: SigningKeyErrorCode, message: string, readonly retirableAt?: Date) {
    super(message);
  }
}

interface KeyRow extends PublishedKeyTiming { created_at: Date; activates_at: Date; retired_at: Date | null }

// A key signed at some point: it activated, and was not retired before that (a pending key can be).
const didSign = (row: KeyRow) => row.active && (!row.retired_at || row.retired_at >= row.activates_at);

function withStatus(rows: KeyRow[]): SigningKeyInfo[] {
  const roles = new Map(inSigningOrder(rows.filter((row) => !row.retired_at)).map((row) => [row.kid, row.role]));
  // Rows come latest activation first within each algorithm: the last key of an algorithm that signed,
  // seen before this row, is the one that took over from it, at its activation.
  const successorOfAlg = new Map<string, KeyRow>();
  return rows.map((row) => {
    const status: SigningKeyStatus = row.retired_at ? 'retired' : roles.get(row.kid) ?? 'retired';
    const successor = successorOfAlg.get(row.alg);
    if (didSign(row)) successorOfAlg.set(row.alg, row);
    const supersededAt = successor && didSign(row) && status !== 'signing' ? successor.activates_at : null;
    const retirableAt = status === 'verifying' && supersededAt
      ? new Date(supersededAt.getTime() + KEY_VERIFICATION_WINDOW_SECONDS * 1000)
      : null;
    return {
      kid: row.kid, alg: row.alg, createdAt: row.created_at, activatesAt: row.activates_at, status,
      supersededAt, retirableAt, retiredAt: row.retired_at,
    };
  });
}

const SELECT_KEYS = `SELECT kid, alg, created_at, activates_at, retired_at, activates_at <= clock_timestamp() AS active
  FROM signing_keys ORDER BY alg COLLATE "C", activates_at DESC, created_at DESC, kid`;

/** Every key, retired ones included, grouped by algorithm, latest activation first. */
export async function listSigningKeys(db: Queryable): Promise<SigningKeyInfo[]> {
  return withStatus((await db.query<KeyRow>(SELECT_KEYS)).rows);
}

/**
 * Stops publishing a key and erases its private half; recorded as `keys.retired`. Refuses the key that
 * signs for its algorithm (rotate first), and, unless `force`, a key superseded less than
 * KEY_VERIFICATION_WINDOW_SECONDS ago (tokens it signed would stop verifying before they expire) and a
 * pending key (that cancels a rotation the operator asked for; no token breaks, as it signed none).
 */
export async function retireSigningKey(
  db: Db, kid: string, { force = false, operator }: { force?: boolean; operator: KeyOperator },
): Promise<SigningKeyInfo> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_SET_LOCK]);
    const keys = withStatus((await tx.query<KeyRow>(SELECT_KEYS)).rows);
    const key = keys.find((candidate) => candidate.kid === kid);
    if (!key) throw new SigningKeyError('not_found', `no signing key has kid ${JSON.stringify(kid)}`);
    if (key.status === 'retired') throw new SigningKeyError('already_retired', `signing key ${kid} is already retired`);
    if (key.status === 'signing') {
      throw new SigningKeyError('signing_key',
        `signing key ${kid} is the one that signs ${key.alg} tokens: rotate first, then retire it once its tokens have expired`);
    }
    const pending = key.status === 'pending';
    if (pending && !force) {
      throw new SigningKeyError('pending_key',
        `signing key ${kid} is pending: it is published and starts signing ${key.alg} tokens at ${key.activatesAt.toISOString()}; ` +
        'retiring it cancels that rotation and the current key keeps signing. Force it to cancel');
    }
    const retirableAt = key.retirableAt ?? new Date(0);
    const early = retirableAt.getTime() > Date.now();
    if (early && !force) {
      throw new SigningKeyError('still_verifying',
        `signing key ${kid} stopped signing at ${key.supersededAt?.toISOString()}: tokens it signed may be valid until ` +
        `${retirableAt.toISOString()}; retire it after that, or force it and those tokens stop verifying`, retirableAt);
    }
    // A pending key is retired only while it still is: were it to activate in between, servers could
    // already sign with it, and retiring it would break their tokens.
    const retired = await tx.query<{ retired_at: Date }>(
      `UPDATE signing_keys SET retired_at = clock_timestamp(), private_jwk_jwe = NULL
        WHERE kid = $1 AND (NOT $2::boolean OR activates_at > clock_timestamp()) RETURNING retired_at`, [kid, pending]);
    const retiredAt = retired.rows[0]?.retired_at;
    if (!retiredAt) {
      throw new SigningKeyError('signing_key', `signing key ${kid} started signing ${key.alg} tokens just now: rotate first`);
    }
    const { actor, ...facts } = operator;
    // The actor is named, not inferred from details: details.actor stays for readers of older events.
    await recordAuditEvent(tx, {
      actor: { type: 'operator', id: actor },
      type: 'keys.retired', ...facts,
      details: { actor, kid, alg: key.alg, forced: early || pending, ...(pending ? { pending: true } : {}) },
    });
    return { ...key, status: 'retired', retirableAt: null, retiredAt };
  });
}
