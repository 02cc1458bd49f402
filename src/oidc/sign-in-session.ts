// A browser's sign-in state is oidc-provider's own Session (row in oidc_models, signed cookie): one sign-in
// serves /account, the operator console and the authorization flow. Reads it, signs in, signs out.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Db } from '../db/db.ts';
import type { Account } from '../accounts/schema.ts';
import { findAccountById } from '../accounts/store.ts';
import { listSessionIdsForAccount } from '../grants/store.ts';
import { recordAuditEvent } from '../audit/store.ts';
import { sessionCookiePolicy } from '../oidc/session-cookie.ts';

type Session = Awaited<ReturnType<Provider['Session']['get']>>;

// oidc-provider marks a session that was never stored (no cookie came with the request) as `new`.
const isUnsaved = (session: Session) => (session as unknown as { new?: boolean }).new === true;

/** The cookie jar oidc-provider itself uses outside its routes (Session.get does the same). */
function providerCookies(provider: Provider, ctx: Koa.Context) {
  const { cookies } = provider.createContext(ctx.req, ctx.res);
  if (ctx.secure) cookies.secure = true;
  return cookies;
}

function setSessionCookie(provider: Provider, ctx: Koa.Context, session: Session | null): void {
  const { options } = sessionCookiePolicy(provider);
  const name = provider.cookieName('session');
  if (!session) {
    providerCookies(provider, ctx).set(name, null, options);
    return;
  }
  // oidc-provider appends the session's expiry to the cookie it sets (lib/shared/session.js).
  const expires = typeof session.exp === 'number' ? new Date(session.exp * 1000) : undefined;
  providerCookies(provider, ctx).set(name, session.jti, { ...options, ...(expires ? { expires } : {}) });
}

/** The signed-in, still active account of this browser's session, if any. */
export async function currentAccount(provider: Provider, db: Db, ctx: Koa.Context): Promise<Account | undefined> {
  const session = await provider.Session.get(ctx);
  if (!session.accountId) return undefined;
  const account = await findAccountById(db, session.accountId);
  return account && !account.disabled ? account : undefined;
}

/**
 * Signs this browser in as `accountId`, in the session the authorization flow uses. The session gets
 * a new id on every sign-in (no fixation); another person's session in this browser is ended first.
 */
export async function signInSession(provider: Provider, ctx: Koa.Context, accountId: string): Promise<void> {
  let session = await provider.Session.get(ctx);
  if (session.accountId && session.accountId !== accountId) {
    await session.destroy();
    session = new provider.Session();
  }
  session.loginAccount({ accountId });
  if (!isUnsaved(session)) session.resetIdentifier();
  await session.save(sessionCookiePolicy(provider).ttlSeconds);
  setSessionCookie(provider, ctx, session);
}

/** Which page signed the person out, and the request's facts, for the `session.ended` audit event. */
export interface SignOut { db: Db; via: 'account' | 'admin'; facts: { ip?: string | undefined; userAgent?: string | undefined; requestId?: string | undefined } }

/** Ends this browser's session (the row and the cookie), recorded as `session.ended` when someone was signed in. */
export async function signOutSession(provider: Provider, ctx: Koa.Context, { db, via, facts }: SignOut): Promise<void> {
  const session = await provider.Session.get(ctx);
  const accountId = isUnsaved(session) ? undefined : session.accountId;
  if (!isUnsaved(session)) await session.destroy();
  setSessionCookie(provider, ctx, null);
  if (accountId) {
    await recordAuditEvent(db, {
      type: 'session.ended', actor: { type: 'user', id: accountId }, accountId, ...facts, details: { via, scope: 'this_browser' },
    });
  }
}

/** Ends every session of the account, in every browser, and this browser's cookie; recorded as `session.ended`. */
export async function signOutEverywhere(provider: Provider, ctx: Koa.Context, accountId: string, { db, via, facts }: SignOut): Promise<number> {
  const ids = await listSessionIdsForAccount(db, accountId);
  for (const id of ids) await provider.Session.adapter.destroy(id);
  setSessionCookie(provider, ctx, null);
  await recordAuditEvent(db, {
    type: 'session.ended', actor: { type: 'user', id: accountId }, accountId, ...facts,
    details: { via, scope: 'everywhere', sessions_ended: ids.length },
  });
  return ids.length;
}
