// What a federated identity keeps of the provider's claims (federated_identities.claims): `groups` (a string
// array from the provider's groups claim, [] without one) and every upstream claim whose value is a string or
// an array of strings. Consent policies read `claims.groups` from here: keep this shape.
import type { IdentityProvider } from './store.ts';

export type StoredClaims = { groups: string[] } & Record<string, string | string[]>;

const MAX_CLAIMS = 100;
const MAX_VALUE_LENGTH = 2000;
const MAX_ITEMS = 500;
// NUL and other C0 controls cannot be stored in PostgreSQL text (NUL) or belong in a claim shown on a page.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

const usableString = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_VALUE_LENGTH && !CONTROL.test(value);

function asStrings(value: unknown): string[] | undefined {
  if (usableString(value)) return [value];
  if (Array.isArray(value) && value.length <= MAX_ITEMS && value.every(usableString)) return value;
  return undefined;
}

export function storedClaims(provider: IdentityProvider, upstream: Record<string, unknown>): StoredClaims {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream).slice(0, MAX_CLAIMS)) {
    if (CONTROL.test(name) || name.length > 200) continue;
    if (usableString(value)) kept[name] = value;
    else if (Array.isArray(value) && value.length <= MAX_ITEMS && value.every(usableString)) kept[name] = value;
  }
  const groups = provider.groupsClaim ? asStrings(upstream[provider.groupsClaim]) ?? [] : [];
  return { ...kept, groups };
}
