// The kit's memory of tokens that made their one irreversible call: per token, whatever else the token
// may do, and kept until the token is past its expiry (plus the clock tolerance margin), then forgotten.
import { describe, expect, it } from 'vitest';
import { createSingleUseScopes, isResourceServerError } from '@portcullis/resource-server';

const token = (value: string, expiresAt: number) => ({ token: value, scopes: ['notes:read', 'notes:delete'], expiresAt });

describe('createSingleUseScopes', () => {
  it('lets each token make one call needing a single-use scope; calls that need none are never counted', () => {
    const singleUse = createSingleUseScopes(['notes:delete']);
    const exp = Date.now() / 1000 + 300;
    for (let i = 0; i < 3; i += 1) singleUse.spend(token('a', exp), [['notes:read']]);
    singleUse.spend(token('a', exp), [['notes:delete']]);
    let refused: unknown;
    try {
      singleUse.spend(token('a', exp), [['notes:delete']]);
    } catch (error) {
      refused = error;
    }
    expect(isResourceServerError(refused) && { code: refused.code, status: refused.status, scopes: refused.scopes })
      .toEqual({ code: 'insufficient_scope', status: 403, scopes: ['notes:read', 'notes:delete'] });
    // Another token (another consent) has its own single use.
    expect(() => singleUse.spend(token('b', exp), [['notes:delete']])).not.toThrow();
  });

  it('remembers a spent token past its expiry and the clock tolerance, then lets the memory go', () => {
    let now = 1_000_000_000_000;
    const singleUse = createSingleUseScopes(['notes:delete'], { now: () => now });
    const exp = now / 1000 + 300;
    singleUse.spend(token('a', exp), [['notes:delete']]);
    now += 299_000;
    expect(() => singleUse.spend(token('a', exp), [['notes:delete']])).toThrow(/already used/);
    now += 60_000; // expired, but a lenient verifier could still accept it: still refused
    expect(() => singleUse.spend(token('a', exp), [['notes:delete']])).toThrow(/already used/);
    now += 600_000; // long past any tolerance: no verifier accepts it, so it need not be remembered
    expect(() => singleUse.spend(token('a', exp), [['notes:delete']])).not.toThrow();
  });
});
