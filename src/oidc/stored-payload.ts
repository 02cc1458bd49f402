// How a stored oidc_models row becomes the payload oidc-provider sees: the payload plus the `consumed`
// mark, which the rotation policy derives from the row (refresh-rotation-policy.ts).
import type { AdapterPayload } from 'oidc-provider';
import { consumedMarkSql } from './refresh-rotation-policy.ts';

/**
 * Columns every payload read selects from `oidc_models t`; $grace is the placeholder for the model's
 * grace window in seconds (graceSecondsFor).
 */
export const storedPayloadColumns = (grace: string) => `t.payload, ${consumedMarkSql('t', grace)} AS consumed`;

export interface StoredPayloadRow {
  payload: AdapterPayload;
  /** Epoch seconds when the row reads as consumed; null while it may be used. */
  consumed: number | null;
}

/** A consumed row carries `consumed`, which oidc-provider checks (a refresh token: revoke the grant). */
export function payloadFromRow(row: StoredPayloadRow): AdapterPayload {
  return row.consumed === null ? row.payload : { ...row.payload, consumed: Number(row.consumed) };
}
