// Scope checks and the step-up answer (MCP §Scope Challenge Handling): a 403 insufficient_scope whose
// `scope` lists what the client should ask for next.
import { ResourceServerError } from './errors.ts';

/**
 * The scope set a step-up challenge carries: the scopes the token already holds, then the missing ones.
 * Why not only the missing ones: MCP 2025-11-25 tells servers to include the held scopes, and clients of
 * that revision (the MCP SDK v1 among them) replace their requested scope with the challenge's, so a
 * challenge naming only `notes:delete` would cost them `notes:read` on the next token. 2026-07-28 clients
 * take the union of old and challenged scopes themselves, for which this set changes nothing.
 */
export function stepUpScopes(held: readonly string[], required: readonly string[]): string[] {
  return [...new Set([...held, ...required])];
}

export const missingScopes = (held: readonly string[], required: readonly string[]) =>
  required.filter((scope) => !held.includes(scope));

/** Throws insufficient_scope (403) unless every required scope is held. */
export function requireScopes(info: { scopes: readonly string[] }, required: readonly string[]): void {
  const missing = missingScopes(info.scopes, required);
  if (missing.length === 0) return;
  throw new ResourceServerError('insufficient_scope', `this request needs the scope ${missing.join(' ')}`, {
    scopes: stepUpScopes(info.scopes, required),
  });
}
