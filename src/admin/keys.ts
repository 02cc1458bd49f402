// Admin operations on signing keys, shared by the console and the JSON API, over the key lifecycle in
// src/oidc/keys*.ts (which running servers pick up without a restart): list, rotate, retire.
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { rotateSigningKeys, type KeyOperator, type RotatedKeys } from '../oidc/keys.ts';
import { listSigningKeys, retireSigningKey, SigningKeyError } from '../oidc/keys-lifecycle.ts';
import type { AdminActor } from './actor.ts';

export { listSigningKeys as listAdminKeys };

// The key functions record their own audit events, in the same transaction as the change.
const operatorOf = (by: AdminActor): KeyOperator => ({
  actor: by.actor, accountId: by.accountId, ip: by.ip, userAgent: by.userAgent, requestId: by.requestId,
});

/**
 * `publishAheadSeconds`: KEY_PUBLISH_AHEAD_SECONDS, or 0 when the admin asked to rotate now (a compromised
 * key). `refresh` makes this process publish the new key set at once; other processes follow on their own
 * key check.
 */
export async function rotateKeys(
  db: Db, keyEncryptionSecret: string, by: AdminActor, refresh: () => Promise<unknown>, publishAheadSeconds: number,
): Promise<RotatedKeys> {
  const rotated = await rotateSigningKeys(db, keyEncryptionSecret, operatorOf(by), publishAheadSeconds);
  await refresh();
  return rotated;
}

export async function retireKey(db: Db, kid: string, force: boolean, by: AdminActor, refresh: () => Promise<unknown>) {
  try {
    const retired = await retireSigningKey(db, kid, { force, operator: operatorOf(by) });
    await refresh();
    return retired;
  } catch (error) {
    if (error instanceof SigningKeyError) {
      throw new AppError(error.code === 'not_found' ? 'key_not_found' : error.code, error.message);
    }
    throw error;
  }
}
