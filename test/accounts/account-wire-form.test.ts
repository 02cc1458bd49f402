// An account's one wire form (src/accounts/service.ts), which `user list --json`, `user add --json` and
// /admin/api/users all print: snake_case, ISO dates, null for none, and nothing of the password.
import { describe, expect, it } from 'vitest';
import { accountIdentityJson, accountJson, type AccountActivity } from '../../src/accounts/service.ts';

const account: AccountActivity = {
  id: 'a1', email: 'ada@example.com', isAdmin: true, disabled: false,
  createdAt: new Date('2026-01-02T03:04:05.678Z'), lastSignInAt: undefined, grants: 2,
};

describe('accountJson', () => {
  it('gives every field in its wire name, a never-signed-in account a null last sign-in', () => {
    expect(accountJson(account)).toEqual({
      id: 'a1', email: 'ada@example.com', is_admin: true, status: 'active', disabled: false,
      created_at: '2026-01-02T03:04:05.678Z', last_sign_in_at: null, grants: 2,
    });
  });

  it('says a disabled account is disabled in both its fields', () => {
    const disabled = accountJson({ ...account, disabled: true, lastSignInAt: new Date('2026-02-01T00:00:00Z') });
    expect(disabled).toMatchObject({ status: 'disabled', disabled: true, last_sign_in_at: '2026-02-01T00:00:00.000Z' });
  });

  it('starts with the identity `user add --json` prints, and hands out nothing it was not built to', () => {
    const withHash = { ...account, passwordHash: '$argon2id$secret' } as AccountActivity;
    expect(accountIdentityJson(withHash)).toEqual({ id: 'a1', email: 'ada@example.com', is_admin: true });
    expect(JSON.stringify(accountJson(withHash))).not.toContain('argon2');
  });
});
