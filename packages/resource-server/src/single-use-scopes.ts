// Single-use scopes (Portcullis's irreversible risk class): one tool call per token that carries one.
// The kit remembers each token it let act that way until the token expires, and refuses a second call.
import { createHash } from 'node:crypto';
import { ResourceServerError } from './errors.ts';
import { stepUpScopes } from './scopes.ts';

/** What the check needs of a verified token: the kit's AccessTokenInfo and the MCP SDKs' AuthInfo both fit. */
export interface SingleUseTokenInfo {
  token: string;
  scopes: readonly string[];
  /** `exp`, seconds since the epoch: the token is remembered until then, no longer. */
  expiresAt?: number | undefined;
}

/** Remembers which tokens spent a single-use scope, so a second call with the same token is refused. */
export interface SingleUseScopes {
  readonly scopes: readonly string[];
  /**
   * Called once a request's tool calls passed the scope check, with the scopes each call needs. A call
   * that needs a single-use scope spends the token: a second such call with the same token, in this
   * request or a later one, is refused with 403 insufficient_scope, so the client asks the person again.
   */
  spend(info: SingleUseTokenInfo, callsRequired: readonly (readonly string[])[]): void;
}

/** Options of `createSingleUseScopes`. */
export interface SingleUseScopesOptions {
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

// Kept past `exp` for longer than any clock tolerance a verifier would allow (the kit's default is 5 s).
const REMEMBER_PAST_EXPIRY_SECONDS = 300;
// A token without `exp` is remembered this long (Portcullis always sets exp; irreversible tokens live 300 s).
const FALLBACK_MEMORY_SECONDS = 3600;

/**
 * Portcullis spends an irreversible scope when the code is redeemed, so one human "yes" yields one
 * access token with it; this makes that token good for one irreversible call, not as many as it can
 * make before it expires. The memory is this process's: a resource served by several processes
 * needs them to share it (see README, limits).
 */
export function createSingleUseScopes(scopes: readonly string[], options: SingleUseScopesOptions = {}): SingleUseScopes {
  const singleUse = new Set(scopes);
  const now = options.now ?? Date.now;
  // Token digest → when it may be forgotten (ms). Entries exist only for tokens that carried a
  // single-use scope, each the fruit of a person's consent, and leave when the token expires.
  const spent = new Map<string, number>();

  function forgetExpired(at: number): void {
    for (const [digest, until] of spent) if (until <= at) spent.delete(digest);
  }

  return {
    scopes: [...singleUse],
    spend(info, callsRequired) {
      const irreversibleCalls = callsRequired.filter((required) => required.some((scope) => singleUse.has(scope)));
      if (irreversibleCalls.length === 0) return;
      const needed = [...new Set(irreversibleCalls.flat())];
      const refuse = (message: string) => new ResourceServerError('insufficient_scope', message, { scopes: stepUpScopes(info.scopes, needed) });
      if (irreversibleCalls.length > 1) throw refuse('a token allows one irreversible tool call; this request makes several');
      const at = now();
      forgetExpired(at);
      const digest = createHash('sha256').update(info.token).digest('base64url');
      if (spent.has(digest)) throw refuse('this token was already used for its one irreversible tool call; the person must approve again');
      const forgetAtSeconds = (info.expiresAt ?? at / 1000 + FALLBACK_MEMORY_SECONDS) + REMEMBER_PAST_EXPIRY_SECONDS;
      spent.set(digest, Math.max(forgetAtSeconds * 1000, at));
    },
  };
}
