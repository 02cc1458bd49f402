// What the server holds about a refresh token, read through oidc-provider's own models: tests used to ask
// /token/introspection as the public client, which RFC 7662 §2.1 (authentication required) now refuses.
import type { TestApp } from './test-app.ts';

export interface RefreshTokenState { active: boolean; scope?: string; client_id?: string }

/** Active as introspection would say: found, not consumed, not expired, and its grant still exists. */
export async function refreshTokenState(app: TestApp, token: string): Promise<RefreshTokenState> {
  const found = await app.provider.RefreshToken.find(token);
  if (!found?.isValid) return { active: false };
  if (found.grantId && !(await app.provider.Grant.find(found.grantId))) return { active: false };
  return { active: true, scope: found.scope, client_id: found.clientId };
}
