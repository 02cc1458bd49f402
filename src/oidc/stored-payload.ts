// How a stored oidc_models row becomes the payload oidc-provider sees: the `consumed` mark, and the
// refresh-token grace window in which a consumed token still reads as unused.
import type { AdapterPayload } from 'oidc-provider';

/** Columns every payload read selects; $grace is the placeholder for the grace window in seconds. */
export const storedPayloadColumns = (grace: string) =>
  `payload, consumed_at, consumed_at > now() - make_interval(secs => ${grace}::int) AS in_grace`;

export interface StoredPayloadRow {
  payload: AdapterPayload;
  consumed_at: Date | string | null;
  in_grace: boolean | null;
}

/**
 * Inside the grace window a rotated refresh token reads as unused, so an honest retry is served a
 * fresh successor; after it, oidc-provider sees `consumed` and revokes the grant. Codes have no window.
 */
export function payloadFromRow(row: StoredPayloadRow): AdapterPayload {
  if (row.consumed_at !== null && !row.in_grace) {
    return { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
  }
  return row.payload;
}

/** The grace window that applies to a model: only refresh tokens have one. */
export const graceSecondsFor = (model: string, refreshGraceSeconds: number) =>
  (model === 'RefreshToken' ? refreshGraceSeconds : 0);
