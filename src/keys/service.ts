// The signing keys' one service, under the CLI, the console and the admin API: checks their input (zod),
// runs the lifecycle in src/oidc/keys*.ts (which audits in the same transaction), codes its refusals, serialises a key.
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { rotateSigningKeys, type KeyOperator, type RotatedKeys } from '../oidc/keys.ts';
import {
  listSigningKeys, retireSigningKey, SigningKeyError, type SigningKeyInfo,
} from '../oidc/keys-lifecycle.ts';

export type { KeyOperator, RotatedKeys, SigningKeyInfo };

/** What every front end hands the service: where the keys live, and how this process picks up a change. */
export interface KeyServiceDeps {
  db: Db;
  keyEncryptionSecret: string;
  /** KEY_PUBLISH_AHEAD_SECONDS: how long a rotated key is published before it signs. */
  publishAheadSeconds: number;
  /** Makes this process publish the new key set at once; other processes follow on their own key check. */
  refreshSigningKeys?: (() => Promise<unknown>) | undefined;
}

/** `now`: sign with the new keys at once (a compromised key) instead of publishing them ahead first. */
export const rotateKeysInput = z.strictObject({ now: z.boolean().default(false) });
export const retireKeyInput = z.strictObject({ kid: z.string(), force: z.boolean().default(false) });

/** The lifecycle's refusal as the service's one coded error (its status is in src/errors.ts's table). */
function coded(error: unknown): unknown {
  if (!(error instanceof SigningKeyError)) return error;
  return new AppError(error.code === 'not_found' ? 'key_not_found' : error.code, error.message);
}

/** Every key, retired ones included, grouped by algorithm, latest activation first. */
export const listKeys = (db: Db): Promise<SigningKeyInfo[]> => listSigningKeys(db);

/** Adds a key per algorithm; recorded as `keys.rotated` with `by` as its operator. */
export async function rotateKeys(deps: KeyServiceDeps, input: unknown, by: KeyOperator): Promise<RotatedKeys> {
  const { now } = rotateKeysInput.parse(input);
  const rotated = await rotateSigningKeys(deps.db, deps.keyEncryptionSecret, by, now ? 0 : deps.publishAheadSeconds);
  await deps.refreshSigningKeys?.();
  return rotated;
}

/**
 * Retires a key (see retireSigningKey for the refusals); recorded as `keys.retired` with `by` as its operator.
 * Needs no secret: it erases a private half, it never reads one.
 */
export async function retireKey(
  deps: Pick<KeyServiceDeps, 'db' | 'refreshSigningKeys'>, input: unknown, by: KeyOperator,
): Promise<SigningKeyInfo> {
  const { kid, force } = retireKeyInput.parse(input);
  let retired: SigningKeyInfo;
  try {
    retired = await retireSigningKey(deps.db, kid, { force, operator: by });
  } catch (error) {
    throw coded(error);
  }
  await deps.refreshSigningKeys?.();
  return retired;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A key's one wire form, for `keys list --json` and /admin/api/keys alike: snake_case, ISO dates, null for none. */
export const keyJson = (key: SigningKeyInfo) => ({
  kid: key.kid, alg: key.alg, status: key.status, created_at: iso(key.createdAt), activates_at: iso(key.activatesAt),
  superseded_at: iso(key.supersededAt), retirable_at: iso(key.retirableAt), retired_at: iso(key.retiredAt),
});

/** A rotation's wire form: the new kids and when they start signing. */
export const rotatedKeysJson = (rotated: RotatedKeys) => ({ kids: rotated.kids, activates_at: rotated.activatesAt.toISOString() });
