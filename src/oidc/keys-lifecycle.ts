// Which signing keys sign, which only verify and which are retired, and the rule for retiring one: never
// the key that signs, and not while a token it signed may still be valid, unless the operator forces it.
import { recordAuditEvent } from '../audit/store.ts';
import type { Db, Queryable } from '../db/db.ts';
import { KEY_SET_LOCK, type KeyOperator } from './keys.ts';

export type SigningKeyStatus = 'signing' | 'verifying' | 'retired';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdAt: Date;
  status: SigningKeyStatus;
  /** When a newer key of its algorithm took over signing; null for the key that signs now. */
  supersededAt: Date | null;
  /** From when `retire` accepts it without force; null for the signing key and retired keys. */
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

export type SigningKeyErrorCode = 'not_found' | 'already_retired' | 'signing_key' | 'still_verifying';

/** Why a key cannot be retired; `code` is stable for the CLI and the admin API to switch on. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
  constructor(readonly code: SigningKeyErrorCode, message: string, readonly retirableAt?: Date) {
    super(message);
  }
}

interface KeyRow { kid: string; alg: string; created_at: Date; retired_at: Date | null }

function withStatus(rows: KeyRow[]): SigningKeyInfo[] {
  // Rows come newest first within each algorithm, in the order oidc-provider sees the published keys:
  // the first published key of an algorithm signs.
  const newerOfAlg = new Map<string, KeyRow>();
  const signingAlgs = new Set<string>();
  return rows.map((row) => {
    const newer = newerOfAlg.get(row.alg);
    newerOfAlg.set(row.alg, row);
    let status: SigningKeyStatus = 'retired';
    if (!row.retired_at) {
      status = signingAlgs.has(row.alg) ? 'verifying' : 'signing';
      signingAlgs.add(row.alg);
    }
    const supersededAt = newer && status !== 'signing' ? newer.created_at : null;
    const retirableAt = status === 'verifying' && supersededAt
      ? new Date(supersededAt.getTime() + KEY_VERIFICATION_WINDOW_SECONDS * 1000)
      : null;
    return { kid: row.kid, alg: row.alg, createdAt: row.created_at, status, supersededAt, retirableAt, retiredAt: row.retired_at };
  });
}

const SELECT_KEYS = 'SELECT kid, alg, created_at, retired_at FROM signing_keys ORDER BY alg COLLATE "C", created_at DESC, kid';

/** Every key, retired ones included, grouped by algorithm, newest first. */
export async function listSigningKeys(db: Queryable): Promise<SigningKeyInfo[]> {
  return withStatus((await db.query<KeyRow>(SELECT_KEYS)).rows);
}

/**
 * Stops publishing a key and erases its private half; recorded as `keys.retired`. Refuses the key that
 * signs for its algorithm (rotate first), and, unless `force`, a key superseded less than
 * KEY_VERIFICATION_WINDOW_SECONDS ago: tokens it signed would stop verifying before they expire.
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
    const retirableAt = key.retirableAt ?? new Date(0);
    const early = retirableAt.getTime() > Date.now();
    if (early && !force) {
      throw new SigningKeyError('still_verifying',
        `signing key ${kid} stopped signing at ${key.supersededAt?.toISOString()}: tokens it signed may be valid until ` +
        `${retirableAt.toISOString()}; retire it after that, or force it and those tokens stop verifying`, retirableAt);
    }
    const retired = await tx.query<{ retired_at: Date }>(
      'UPDATE signing_keys SET retired_at = clock_timestamp(), private_jwk_jwe = NULL WHERE kid = $1 RETURNING retired_at', [kid]);
    const { actor, ...facts } = operator;
    await recordAuditEvent(tx, {
      type: 'keys.retired', ...facts,
      details: { actor, kid, alg: key.alg, forced: early },
    });
    return { ...key, status: 'retired', retirableAt: null, retiredAt: retired.rows[0]?.retired_at ?? new Date() };
  });
}
